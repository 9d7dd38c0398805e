"""Claims: a lease so two operators never work the same report unknowingly."""

from __future__ import annotations

from triage_support import claim, move, report
from vigie import clock


def test_a_claim_is_a_renewable_lease(client, partner, make_staff, post_report):
    op = make_staff("operator", "Alice")
    rid = report(post_report, partner, "a")
    first = claim(client, op, rid)
    assert first.status_code == 200
    assert first.get_json()["holder"] == {"id": op["id"], "name": "Alice"}
    clock.travel(10 * 60)
    renewed = claim(client, op, rid).get_json()
    assert renewed["expires_at"] > first.get_json()["expires_at"]


def test_another_operator_gets_409_naming_the_holder(client, partner, make_staff, post_report):
    alice, bob = make_staff("operator", "Alice"), make_staff("operator", "Bob")
    rid = report(post_report, partner, "a")
    expires = claim(client, alice, rid).get_json()["expires_at"]
    response = claim(client, bob, rid)
    assert response.status_code == 409
    body = response.get_json()
    assert body["holder"] == {"id": alice["id"], "name": "Alice"}
    assert body["expires_at"] == expires
    assert response.headers["Content-Type"] == "application/problem+json"


def test_expired_claims_are_free_again(client, partner, make_staff, post_report):
    alice, bob = make_staff(), make_staff()
    rid = report(post_report, partner, "a")
    claim(client, alice, rid)
    clock.travel(15 * 60 + 1)
    assert claim(client, bob, rid).status_code == 200
    # Alice's old lease no longer lets her move the report.
    assert move(client, alice, rid, "in_review").status_code == 409


def test_claim_length_comes_from_config(make_app, partner, make_staff, post_report):
    app = make_app(claim_minutes=1)
    client = app.test_client()
    op = make_staff()
    rid = report(post_report, partner, "a")
    body = client.post(f"/v1/triage/reports/{rid}/claim", json={}, headers=op.headers).get_json()
    from datetime import datetime

    remaining = datetime.fromisoformat(body["expires_at"]) - clock.now()
    assert 0 < remaining.total_seconds() <= 60


def test_release_frees_the_report(client, partner, make_staff, post_report):
    alice, bob = make_staff(), make_staff()
    rid = report(post_report, partner, "a")
    claim(client, alice, rid)
    assert client.post(f"/v1/triage/reports/{rid}/release", headers=bob.headers).status_code == 409
    released = client.post(f"/v1/triage/reports/{rid}/release", headers=alice.headers)
    assert released.status_code == 200
    assert released.get_json()["holder"] is None
    assert claim(client, bob, rid).status_code == 200


def test_only_a_supervisor_takes_over(client, partner, make_staff, post_report):
    alice, bob = make_staff("operator", "Alice"), make_staff("operator", "Bob")
    sam = make_staff("supervisor", "Sam")
    rid = report(post_report, partner, "a")
    claim(client, alice, rid)
    assert claim(client, bob, rid, takeover=True).status_code == 403
    taken = claim(client, sam, rid, takeover=True)
    assert taken.status_code == 200
    assert taken.get_json()["holder"]["id"] == sam["id"]
    assert move(client, alice, rid, "in_review").status_code == 409
    assert move(client, sam, rid, "in_review").status_code == 200


def test_claiming_without_a_body_works_and_unknown_fields_are_refused(
    client, partner, make_staff, post_report
):
    op = make_staff()
    rid = report(post_report, partner, "a")
    assert client.post(f"/v1/triage/reports/{rid}/claim", headers=op.headers).status_code == 200
    response = claim(client, op, rid, force=True)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "force"
    assert claim(client, op, "rep_missing").status_code == 404


def test_simultaneous_claims_have_one_winner(app, partner, make_staff, post_report):
    from concurrent.futures import ThreadPoolExecutor

    staff = [make_staff("operator", f"Op {i}") for i in range(6)]
    rid = report(post_report, partner, "a")

    def attempt(actor):
        with app.test_client() as own:
            return own.post(
                f"/v1/triage/reports/{rid}/claim", json={}, headers=actor.headers
            ).status_code

    with ThreadPoolExecutor(max_workers=len(staff)) as pool:
        codes = sorted(pool.map(attempt, staff))
    assert codes == [200] + [409] * (len(staff) - 1)

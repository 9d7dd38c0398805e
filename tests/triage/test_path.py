"""The whole path of a report through triage, as the issue's "Done when" describes it."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from payloads import stay_report
from vigie import clock
from vigie.cli import main
from vigie.outbox.models import OutboxEvent

P1_BODY = {
    "partner_reference": "P1-urgent",
    "persons": {"count": 3, "minors": 1, "in_immediate_danger": True},
    "indicators": ["restricted_movement", "minor_with_unrelated_adult"],
}


def _verify(app):
    return app.test_cli_runner().invoke(main, ["audit", "verify", "--json"])


def test_report_in_to_indicators_and_a_verified_audit_log(
    app, client, db, partner, make_staff, post_report
):
    alice, bob = make_staff("operator", "Alice"), make_staff("operator", "Bob")
    supervisor = make_staff("supervisor", "Sam")
    admin = make_staff("admin", "Ada")

    # Report in: a P4 first, then a P1 on the same listing a minute later.
    p4 = post_report(partner, stay_report(partner_reference="P4-first")).get_json()
    assert p4["priority"] == "P4"
    clock.travel(60)
    p1 = post_report(partner, stay_report(**P1_BODY)).get_json()
    assert p1["priority"] == "P1"

    # Queue order: the P1 posted later is served first; both are related (same listing).
    queue = client.get("/v1/triage/queue", headers=alice.headers).get_json()
    assert [row["id"] for row in queue["items"]] == [p1["id"], p4["id"]]
    assert queue["items"][0]["related_count"] == 1
    assert queue["counts"]["by_priority"]["P1"] == 1
    assert queue["counts"]["by_status"]["received"] == 2

    # Claim conflict: Alice claims, Bob is told who holds it and until when.
    base = f"/v1/triage/reports/{p1['id']}"
    assert client.post(f"{base}/claim", headers=alice.headers).status_code == 200
    conflict = client.post(f"{base}/claim", headers=bob.headers)
    assert conflict.status_code == 409
    assert conflict.get_json()["holder"] == {"id": alice["id"], "name": "Alice"}
    assert conflict.get_json()["expires_at"]

    # Illegal move refused, with the allowed moves listed.
    illegal = client.post(f"{base}/transitions", json={"to": "referred"}, headers=alice.headers)
    assert illegal.status_code == 409
    assert "in_review" in illegal.get_json()["allowed"]
    assert (
        client.post(
            f"{base}/transitions", json={"to": "in_review"}, headers=bob.headers
        ).status_code
        == 409
    )  # Bob does not hold the claim
    moved = client.post(f"{base}/transitions", json={"to": "in_review"}, headers=alice.headers)
    assert moved.status_code == 200
    assert moved.get_json()["first_reviewed_at"]

    # Referral to a suggested shelter.
    near = client.post(
        "/v1/shelters",
        json={
            "name": "SIAO 13",
            "type": "emergency_shelter",
            "departments": ["13"],
            "accepts": ["women", "families", "minors"],
            "capacity_total": 10,
            "capacity_available": 2,
        },
        headers=admin.headers,
    ).get_json()
    client.post(
        "/v1/shelters",
        json={
            "name": "Far away",
            "type": "emergency_shelter",
            "departments": ["75"],
            "accepts": ["men"],
            "capacity_total": 10,
            "capacity_available": 9,
        },
        headers=admin.headers,
    )
    suggested = client.get(f"{base}/shelter-suggestions", headers=alice.headers).get_json()
    assert suggested[0]["shelter"]["id"] == near["id"]
    mismatch = client.post(
        f"{base}/referrals",
        json={"target_type": "protected_shelter", "shelter_id": near["id"]},
        headers=alice.headers,
    )
    assert mismatch.status_code == 422
    assert mismatch.get_json()["errors"][0]["detail"] == (
        "This shelter's type is emergency_shelter but the referral's target_type is "
        "protected_shelter: refer with target_type emergency_shelter, or choose a shelter of "
        "type protected_shelter."
    )
    referral = client.post(
        f"{base}/referrals",
        json={"target_type": "emergency_shelter", "shelter_id": near["id"], "note": "2 places"},
        headers=alice.headers,
    )
    assert referral.status_code == 201
    shelter = client.get(f"/v1/shelters/{near['id']}", headers=alice.headers).get_json()
    assert shelter["capacity_available"] == 1

    # The partner sees `actioned`, and an outbox event says so.
    seen = client.get(f"/v1/reports/{p1['id']}", headers=partner.headers).get_json()
    assert seen["status"] == "actioned"
    with db.unit() as session:
        events = session.execute(
            select(OutboxEvent.type, OutboxEvent.data).where(
                OutboxEvent.type.in_(["report.status_changed", "referral.created"])
            )
        ).all()
    changes = [data for type_, data in events if type_ == "report.status_changed"]
    assert changes[-1] == {
        "report_id": p1["id"],
        "partner_reference": "P1-urgent",
        "status": "actioned",
        "previous_status": "in_review",
    }
    assert any(type_ == "referral.created" for type_, _ in events)

    # Closing.
    client.patch(
        f"{base}/referrals/{referral.get_json()['id']}",
        json={"status": "accepted"},
        headers=alice.headers,
    )
    closed = client.post(
        f"{base}/transitions",
        json={"to": "closed", "closure_reason": "victims_protected"},
        headers=alice.headers,
    )
    assert closed.status_code == 200
    assert (
        client.get(f"/v1/reports/{p1['id']}", headers=partner.headers).get_json()["status"]
        == "closed"
    )

    # Indicators reflect it.
    stats = client.get(
        "/v1/stats/indicators?group_by=priority", headers=supervisor.headers
    ).get_json()
    by_key = {g["key"]: g for g in stats["groups"]}
    assert by_key["P1"]["received"] == 1
    assert by_key["P1"]["in_immediate_danger"] == 1
    assert by_key["P1"]["first_review"]["P1"]["reviewed"] == 1
    assert by_key["P1"]["first_review"]["P1"]["within_response_time_share"] == 1.0
    assert by_key["P1"]["referrals"]["emergency_shelter"]["accepted"] == 1
    assert by_key["P1"]["closures"]["victims_protected"] == 1
    assert by_key["P4"]["first_review"]["P4"]["not_reviewed"] == 1

    # The audit log verifies, then fails once one row is altered.
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
    log = client.get(f"/v1/audit?report_id={p1['id']}", headers=supervisor.headers).get_json()
    actions = [e["action"] for e in log]
    assert actions[:2] == ["report.claimed", "report.transition"]
    assert "referral.created" in actions
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET actor = :a WHERE seq = 2"), {"a": bob["id"]})
    broken = _verify(app)
    assert broken.exit_code == 1
    assert json.loads(broken.output)["broken_at"] == 2

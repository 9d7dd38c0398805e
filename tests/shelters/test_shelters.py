"""Shelter directory, referrals and suggestions."""

from __future__ import annotations

from sqlalchemy import select

from triage_support import P2, claim, move, report, shelter
from vigie import clock
from vigie.outbox.models import OutboxEvent


def test_admins_write_operators_read(client, make_staff):
    admin, op = make_staff("admin"), make_staff()
    created = shelter(client, admin, integration="siao13")
    assert created["id"].startswith("shl_")
    assert created["capacity_updated_at"]
    assert created["integration"] == "siao13"
    assert client.get("/v1/shelters", headers=op.headers).get_json()[0]["id"] == created["id"]
    assert client.post("/v1/shelters", json={"name": "x"}, headers=op.headers).status_code == 403
    patched = client.patch(
        f"/v1/shelters/{created['id']}", json={"capacity_available": 1}, headers=op.headers
    )
    assert patched.status_code == 403


def test_shelter_validation_names_the_field(client, make_staff):
    admin = make_staff("admin")
    for body, field in [
        ({"type": "hotel"}, "type"),
        ({"departments": ["99"]}, "departments[0]"),
        ({"accepts": ["cats"]}, "accepts[0]"),
        ({"capacity_available": 11}, "capacity_available"),
        ({"colour": "blue"}, "colour"),
    ]:
        payload = {
            "name": "S",
            "type": "emergency_shelter",
            "departments": ["13"],
            "capacity_total": 10,
            "capacity_available": 1,
            **body,
        }
        response = client.post("/v1/shelters", json=payload, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.get_json()["errors"][0]["field"] == field


def test_patching_availability_shows_its_freshness(client, make_staff):
    admin, sam = make_staff("admin"), make_staff("supervisor")
    created = shelter(client, admin)
    clock.travel(3600)
    patched = client.patch(
        f"/v1/shelters/{created['id']}", json={"capacity_available": 0}, headers=admin.headers
    ).get_json()
    assert patched["capacity_available"] == 0
    assert patched["capacity_updated_at"] > created["capacity_updated_at"]
    renamed = client.patch(
        f"/v1/shelters/{created['id']}", json={"name": "SIAO 13 Nord"}, headers=admin.headers
    ).get_json()
    assert renamed["capacity_updated_at"] == patched["capacity_updated_at"]
    archived = client.patch(
        f"/v1/shelters/{created['id']}", json={"archived": True}, headers=admin.headers
    ).get_json()
    assert archived["archived"] is True
    assert client.get("/v1/shelters", headers=admin.headers).get_json() == []
    log = client.get("/v1/audit?action=shelter.updated", headers=sam.headers).get_json()
    assert [e["details"]["fields"] for e in log] == [
        ["capacity_available"],
        ["name"],
        ["archived"],
    ]


def test_suggestions_rank_department_acceptance_capacity(client, partner, make_staff, post_report):
    admin, op = make_staff("admin"), make_staff()
    rid = report(post_report, partner, "a", **P2)  # minors involved, département 13
    no_minors = shelter(client, admin, name="A no minors", accepts=["women"])
    full = shelter(client, admin, name="B full", accepts=["minors"], capacity_available=0)
    best = shelter(client, admin, name="C best", accepts=["minors", "families"])
    elsewhere = shelter(client, admin, name="D Paris", departments=["75"], accepts=["minors"])
    ranked = client.get(
        f"/v1/triage/reports/{rid}/shelter-suggestions", headers=op.headers
    ).get_json()
    assert [s["shelter"]["id"] for s in ranked] == [
        best["id"],
        full["id"],
        elsewhere["id"],  # it could take the children; the one next door cannot
        no_minors["id"],
    ]
    assert "serves_department" in ranked[0]["reasons"]
    assert "does_not_accept_minors" in ranked[3]["reasons"]
    only = client.get(
        f"/v1/triage/reports/{rid}/shelter-suggestions?type=protected_shelter",
        headers=op.headers,
    ).get_json()
    assert only == []


def test_referral_moves_the_report_and_takes_a_place(client, db, partner, make_staff, post_report):
    admin, op = make_staff("admin"), make_staff()
    target = shelter(client, admin, integration="siao13")
    rid = report(post_report, partner, "a")
    url = f"/v1/triage/reports/{rid}/referrals"
    body = {"target_type": "emergency_shelter", "shelter_id": target["id"], "note": "2 pers."}
    assert client.post(url, json=body, headers=op.headers).status_code == 409  # no claim
    claim(client, op, rid)
    wrong = client.post(url, json={**body, "target_type": "association"}, headers=op.headers)
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["field"] == "shelter_id"
    created = client.post(url, json=body, headers=op.headers)
    assert created.status_code == 201
    referral = created.get_json()
    assert referral["status"] == "pending"
    assert referral["note"] == "2 pers."
    # Straight from received: the referral is the first review, and the partner sees actioned.
    detail = client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()
    assert detail["status"] == "referred"
    assert detail["first_reviewed_at"]
    assert [h["to"] for h in detail["history"]] == ["in_review", "referred"]
    assert (
        client.get(f"/v1/reports/{rid}", headers=partner.headers).get_json()["status"] == "actioned"
    )
    with db.unit() as session:
        events = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        forwarded = [e.data for e in events if e.type == "referral.created"]
        changes = [e.data["status"] for e in events if e.type == "report.status_changed"]
    assert forwarded == [
        {
            "referral_id": referral["id"],
            "report_id": rid,
            "target_type": "emergency_shelter",
            "shelter_id": target["id"],
            "integration": "siao13",
        }
    ]
    assert changes == ["in_review", "actioned"]
    assert (
        client.get(f"/v1/shelters/{target['id']}", headers=op.headers).get_json()[
            "capacity_available"
        ]
        == 2
    )


def test_referral_outcomes(client, partner, make_staff, post_report):
    admin, op = make_staff("admin"), make_staff()
    target = shelter(client, admin, capacity_available=1)
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    url = f"/v1/triage/reports/{rid}/referrals"
    first = client.post(
        url,
        json={"target_type": "emergency_shelter", "shelter_id": target["id"]},
        headers=op.headers,
    ).get_json()
    shelter_url = f"/v1/shelters/{target['id']}"
    assert client.get(shelter_url, headers=op.headers).get_json()["capacity_available"] == 0
    declined = client.patch(f"{url}/{first['id']}", json={"status": "declined"}, headers=op.headers)
    assert declined.status_code == 200
    assert client.get(shelter_url, headers=op.headers).get_json()["capacity_available"] == 1
    again = client.patch(f"{url}/{first['id']}", json={"status": "accepted"}, headers=op.headers)
    assert again.status_code == 409
    assert again.get_json()["allowed"] == []
    second = client.post(
        url, json={"target_type": "child_protection", "note": "CRIP 13"}, headers=op.headers
    ).get_json()
    bad = client.patch(f"{url}/{second['id']}", json={"status": "completed"}, headers=op.headers)
    assert bad.status_code == 409
    assert bad.get_json()["allowed"] == ["accepted", "declined", "no_capacity"]
    assert (
        client.patch(
            f"{url}/{second['id']}", json={"status": "accepted"}, headers=op.headers
        ).status_code
        == 200
    )
    done = client.patch(f"{url}/{second['id']}", json={"status": "completed"}, headers=op.headers)
    assert done.get_json()["status"] == "completed"
    listed = client.get(url, headers=op.headers).get_json()
    assert [r["status"] for r in listed] == ["declined", "completed"]
    assert (
        client.patch(f"{url}/ref_nope", json={"status": "accepted"}, headers=op.headers).status_code
        == 404
    )


def test_closed_reports_are_not_referred(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    move(client, op, rid, "closed", closure_reason="no_grounds")
    response = client.post(
        f"/v1/triage/reports/{rid}/referrals",
        json={"target_type": "association"},
        headers=op.headers,
    )
    assert response.status_code == 409


def test_partners_never_reach_shelters_or_referrals(client, partner, post_report):
    rid = report(post_report, partner, "a")
    assert client.get("/v1/shelters", headers=partner.headers).status_code == 403
    assert (
        client.get(f"/v1/triage/reports/{rid}/referrals", headers=partner.headers).status_code
        == 403
    )


def test_nul_in_a_shelter_field_is_422_naming_it_on_every_engine(client, make_staff):
    # Found by tests/test_api_fuzz.py: PostgreSQL text cannot hold U+0000, so this was a 500.
    admin = make_staff("admin")
    body = {
        "name": "SIAO\x00 13",
        "type": "emergency_shelter",
        "departments": ["13"],
        "capacity_total": 1,
        "capacity_available": 1,
    }
    response = client.post("/v1/shelters", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [
        {
            "field": "name",
            "pointer": "#/name",
            "detail": "Text must not contain the NUL character (U+0000).",
        }
    ]
    nested = client.post(
        "/v1/shelters",
        json={**body, "name": "SIAO 13", "contact": {"notes": "ok", "name": "Perm\x00anence"}},
        headers=admin.headers,
    ).get_json()
    assert nested["errors"][0]["pointer"] == "#/contact/name"
    assert client.get("/v1/shelters", headers=admin.headers).get_json() == []
    # A literal backslash-u text is not a NUL and is stored as sent.
    literal = client.post("/v1/shelters", json={**body, "name": "C:\\u0000"}, headers=admin.headers)
    assert literal.status_code == 201
    assert literal.get_json()["name"] == "C:\\u0000"


def test_nul_in_a_shelter_id_is_404(client, make_staff):
    admin = make_staff("admin")
    response = client.get("/v1/shelters/shl_%00", headers=admin.headers)
    assert response.status_code == 404
    assert response.get_json()["status"] == 404

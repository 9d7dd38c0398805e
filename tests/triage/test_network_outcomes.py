"""POST /v1/integrations/shelter_network/outcomes: a network's answers about the referrals
forwarded to it, recorded as MIPROF staff would record them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from network_support import (
    OUTCOMES_URL,
    cli,
    create_network,
    network_shelter,
    refer,
    send_outcome,
)
from triage_support import report, shelter
from vigie.audit.models import AuditEntry
from vigie.outbox.models import OutboxEvent

INTAKE = "http://127.0.0.1:9/intake"  # never called here: no worker runs


@pytest.fixture
def network(app):
    return create_network(app, INTAKE)


@pytest.fixture
def forwarded(client, partner, make_staff, post_report, network):
    """A report referred to a shelter of the network: (report id, referral, operator)."""
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network, capacity_available=2)
    rid = report(post_report, partner, "fwd-1")
    return rid, refer(client, op, rid, target["id"]), op, target


def _referral(client, op, rid, referral_id):
    listed = client.get(f"/v1/triage/reports/{rid}/referrals", headers=op.headers).get_json()
    return next(r for r in listed if r["id"] == referral_id)


def _outcome_entries(db, referral_id):
    with db.unit(write=False) as session:
        return session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "referral.outcome", AuditEntry.target == referral_id
            )
        ).all()


def test_accepted_then_completed_update_the_referral_and_are_audited_as_the_network(
    client, db, network, forwarded
):
    rid, referral, op, _ = forwarded
    accepted = send_outcome(client, network, referral["id"], "accepted")
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["referral_id"] == referral["id"]
    assert body["outcome"] == "accepted"
    assert body["reason"] is None
    assert body["outcome_at"]
    assert set(body) == {"referral_id", "outcome", "reason", "outcome_at"}
    assert _referral(client, op, rid, referral["id"])["status"] == "accepted"
    # A network may repeat a callback: the same outcome again changes nothing.
    again = send_outcome(client, network, referral["id"], "accepted")
    assert again.status_code == 200
    assert again.get_json()["outcome_at"] == body["outcome_at"]
    completed = send_outcome(client, network, referral["id"], "completed")
    assert completed.get_json()["outcome"] == "completed"
    assert _referral(client, op, rid, referral["id"])["status"] == "completed"
    entries = _outcome_entries(db, referral["id"])
    assert [(e.actor, e.actor_role, e.details) for e in entries] == [
        (f"network:{network['id']}", "shelter_network", {"from": "pending", "to": "accepted"}),
        (f"network:{network['id']}", "shelter_network", {"from": "accepted", "to": "completed"}),
    ]
    assert all(e.report_id == rid for e in entries)


def test_a_refusal_frees_the_place_and_sends_the_report_back_to_review_as_staff_would(
    client, db, partner, make_staff, post_report, network, forwarded
):
    rid, referral, op, target = forwarded
    admin = make_staff("admin")
    shelter_url = f"/v1/shelters/{target['id']}"
    assert client.get(shelter_url, headers=op.headers).get_json()["capacity_available"] == 1
    assert client.get(f"/v1/reports/{rid}", headers=partner.headers).get_json()["status"] == (
        "actioned"
    )
    refused = send_outcome(client, network, referral["id"], "refused", reason="not_eligible")
    assert refused.status_code == 200, refused.get_json()
    assert (refused.get_json()["outcome"], refused.get_json()["reason"]) == (
        "refused",
        "not_eligible",
    )
    seen = _referral(client, op, rid, referral["id"])
    assert (seen["status"], seen["outcome_reason"]) == ("declined", "not_eligible")
    assert client.get(shelter_url, headers=op.headers).get_json()["capacity_available"] == 2
    # The same referral refused by MIPROF staff on another report moves the same things.
    other = report(post_report, partner, "staff-1")
    plain = shelter(client, admin, name="Accueil de jour")
    by_staff = refer(client, op, other, plain["id"])
    declined = client.patch(
        f"/v1/triage/reports/{other}/referrals/{by_staff['id']}",
        json={"status": "declined", "reason": "not_eligible"},
        headers=op.headers,
    )
    assert declined.status_code == 200, declined.get_json()
    for report_id in (rid, other):
        assert client.get(f"/v1/reports/{report_id}", headers=partner.headers).get_json()[
            "status"
        ] == ("in_review")
        detail = client.get(f"/v1/triage/reports/{report_id}", headers=op.headers).get_json()
        assert detail["status"] == "in_review"
        assert [h["to"] for h in detail["history"]] == ["in_review", "referred", "in_review"]
    with db.unit(write=False) as session:
        changes = [
            (e.data["report_id"], e.data["previous_status"], e.data["status"])
            for e in session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type == "report.status_changed")
                .order_by(OutboxEvent.id)
            )
        ]
    backwards = [c for c in changes if c[1] == "actioned"]
    assert backwards == [(rid, "actioned", "in_review"), (other, "actioned", "in_review")]
    (entry,) = _outcome_entries(db, referral["id"])
    assert entry.details == {
        "from": "pending",
        "to": "declined",
        "reason": "not_eligible",
        "report_status": "in_review",
    }


def test_no_capacity_declares_the_shelter_full_and_a_referral_in_force_keeps_the_report(
    client, partner, make_staff, post_report, network, forwarded
):
    rid, referral, op, target = forwarded
    admin = make_staff("admin")
    elsewhere = shelter(client, admin, name="Accueil de jour")
    second = client.post(
        f"/v1/triage/reports/{rid}/referrals",
        json={"target_type": "emergency_shelter", "shelter_id": elsewhere["id"]},
        headers=op.headers,
    )
    assert second.status_code == 201
    full = send_outcome(client, network, referral["id"], "refused", reason="no_capacity")
    assert full.get_json()["reason"] == "no_capacity"
    assert _referral(client, op, rid, referral["id"])["status"] == "no_capacity"
    shelter_now = client.get(f"/v1/shelters/{target['id']}", headers=op.headers).get_json()
    assert shelter_now["capacity_available"] == 0
    # The other referral is still pending: the report stays referred (actioned).
    assert client.get(f"/v1/reports/{rid}", headers=partner.headers).get_json()["status"] == (
        "actioned"
    )


def test_outcomes_show_in_the_indicators(client, make_staff, network, forwarded):
    _, referral, _, _ = forwarded
    send_outcome(client, network, referral["id"], "refused", reason="person_declined")
    sam = make_staff("supervisor")
    (group,) = client.get("/v1/stats/indicators", headers=sam.headers).get_json()["groups"]
    assert group["referrals"]["emergency_shelter"]["declined"] == 1
    assert group["referrals"]["emergency_shelter"]["pending"] == 0
    assert group["referral_refusals"]["person_declined"] == 1


def test_only_the_network_it_was_forwarded_to_may_answer(
    app, client, partner, make_staff, post_report, network, forwarded
):
    rid, referral, op, _ = forwarded
    other = create_network(app, INTAKE, name="Réseau voisin")
    assert send_outcome(client, other, referral["id"], "accepted").status_code == 404
    # A referral to a shelter outside any network is never the network's either.
    plain = shelter(client, make_staff("admin"), name="Accueil de jour")
    direct = client.post(
        f"/v1/triage/reports/{rid}/referrals",
        json={"target_type": "emergency_shelter", "shelter_id": plain["id"]},
        headers=op.headers,
    ).get_json()
    missing = send_outcome(client, network, direct["id"], "accepted")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert send_outcome(client, network, "ref_nope", "accepted").status_code == 404
    assert _referral(client, op, rid, referral["id"])["status"] == "pending"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer vn_not-a-key"}, 401),
        ({"Authorization": "Basic dm46"}, 401),
    ],
)
def test_no_valid_network_key_is_401(client, forwarded, headers, status):
    _, referral, _, _ = forwarded
    response = client.post(
        OUTCOMES_URL, json={"referral_id": referral["id"], "outcome": "accepted"}, headers=headers
    )
    assert response.status_code == status
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_partners_and_staff_are_403_and_a_revoked_network_401(
    app, client, partner, make_staff, network, forwarded
):
    _, referral, _, _ = forwarded
    body = {"referral_id": referral["id"], "outcome": "accepted"}
    for caller in (partner, make_staff("admin")):
        answer = client.post(OUTCOMES_URL, json=body, headers=caller.headers)
        assert answer.status_code == 403
        assert answer.get_json()["detail"] == "This operation is for shelter networks."
    # The network's key reaches nothing else: a valid key of another kind, 403 as the others
    # (every route against every caller: tests/security/test_api5_function_level_authorization.py).
    assert client.get("/v1/reports", headers=network.headers).status_code == 403
    assert client.get("/v1/triage/queue", headers=network.headers).status_code == 403
    cli(app, "shelter-network", "revoke", network["id"], "--json")
    assert client.post(OUTCOMES_URL, json=body, headers=network.headers).status_code == 401


def test_a_move_the_referral_cannot_make_is_409_in_the_networks_terms(client, network, forwarded):
    _, referral, _, _ = forwarded
    early = send_outcome(client, network, referral["id"], "completed")
    assert early.status_code == 409
    assert early.get_json()["allowed"] == ["accepted", "refused"]
    assert early.get_json()["outcome_now"] is None
    send_outcome(client, network, referral["id"], "refused", reason="other")
    late = send_outcome(client, network, referral["id"], "accepted")
    assert late.status_code == 409
    assert late.get_json()["outcome_now"] == "refused"
    assert late.get_json()["allowed"] == []
    changed_mind = send_outcome(client, network, referral["id"], "refused", reason="not_eligible")
    assert changed_mind.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "refused"}, "reason"),
        ({"outcome": "accepted", "reason": "other"}, "reason"),
        ({"outcome": "refused", "reason": "too_far"}, "reason"),
        ({"outcome": "placed"}, "outcome"),
        ({"outcome": "accepted", "note": "free text"}, "note"),
        ({"outcome": "accepted", "referral_id": None}, "referral_id"),
        ({"outcome": "accepted", "referral_id": "x" * 100}, "referral_id"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(client, network, forwarded, body, field):
    _, referral, _, _ = forwarded
    response = client.post(
        OUTCOMES_URL, json={"referral_id": referral["id"], **body}, headers=network.headers
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_staff_give_reasons_only_with_a_refusal(client, network, forwarded):
    rid, referral, op, _ = forwarded
    url = f"/v1/triage/reports/{rid}/referrals/{referral['id']}"
    wrong = client.patch(url, json={"status": "accepted", "reason": "other"}, headers=op.headers)
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["field"] == "reason"
    full = client.patch(
        url, json={"status": "declined", "reason": "no_capacity"}, headers=op.headers
    )
    assert full.status_code == 422
    ok = client.patch(url, json={"status": "no_capacity"}, headers=op.headers)
    assert ok.get_json()["outcome_reason"] == "no_capacity"
    # What staff recorded is what the network reads back when it repeats the same answer.
    same = send_outcome(client, network, referral["id"], "refused", reason="no_capacity")
    assert same.status_code == 200

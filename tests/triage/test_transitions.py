"""Status moves: the vocabulary's rules, closure reasons, duplicates, and what partners see."""

from __future__ import annotations

from sqlalchemy import select

from triage_support import claim, move, report
from vigie.outbox.models import OutboxEvent


def _status_events(db):
    with db.unit() as session:
        return [
            e.data
            for e in session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type == "report.status_changed")
                .order_by(OutboxEvent.id)
            )
        ]


def test_moving_without_a_claim_is_409(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    response = move(client, op, rid, "in_review")
    assert response.status_code == 409
    assert "Claim" in response.get_json()["detail"]


def test_illegal_moves_list_the_allowed_ones(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    move(client, op, rid, "in_review")
    response = move(client, op, rid, "received")
    assert response.status_code == 409
    assert response.get_json()["allowed"] == ["referred", "closed"]
    assert response.get_json()["status_now"] == "in_review"


def test_first_review_is_recorded_once(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    reviewed = move(client, op, rid, "in_review").get_json()["first_reviewed_at"]
    assert reviewed
    claim(client, op, rid)
    closed = move(client, op, rid, "closed", closure_reason="no_grounds").get_json()
    assert closed["first_reviewed_at"] == reviewed
    assert closed["claim"]["holder"] is None  # closing releases the claim


def test_closing_needs_a_reason_and_duplicates_name_the_original(
    client, partner, make_staff, post_report
):
    op = make_staff()
    original = report(post_report, partner, "a")
    twin = report(post_report, partner, "b")
    claim(client, op, twin)
    missing = move(client, op, twin, "closed")
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "closure_reason"
    no_original = move(client, op, twin, "closed", closure_reason="duplicate")
    assert no_original.get_json()["errors"][0]["field"] == "duplicate_of"
    itself = move(client, op, twin, "closed", closure_reason="duplicate", duplicate_of=twin)
    assert itself.status_code == 422
    mixed = move(client, op, twin, "closed", closure_reason="no_grounds", duplicate_of=original)
    assert mixed.status_code == 422
    stray = move(client, op, twin, "in_review", closure_reason="no_grounds")
    assert stray.get_json()["errors"][0]["field"] == "closure_reason"
    bad = move(client, op, twin, "closed", closure_reason="bored")
    assert bad.status_code == 422
    done = move(client, op, twin, "closed", closure_reason="duplicate", duplicate_of=original)
    assert done.status_code == 200
    assert done.get_json()["duplicate_of"] == original
    detail = client.get(f"/v1/triage/reports/{original}", headers=op.headers).get_json()
    related = {r["id"]: r["reasons"] for r in detail["related"]}
    assert set(related[twin]) == {"same_listing", "duplicate_of_this"}


def test_only_supervisors_reopen(client, partner, make_staff, post_report):
    op, sam = make_staff(), make_staff("supervisor")
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    move(client, op, rid, "closed", closure_reason="insufficient_information")
    claim(client, op, rid)
    assert move(client, op, rid, "in_review").status_code == 403
    claim(client, sam, rid, takeover=True)
    reopened = move(client, sam, rid, "in_review")
    assert reopened.status_code == 200
    assert reopened.get_json()["closure_reason"] is None
    assert reopened.get_json()["partner_status"] == "in_review"


def test_partner_events_only_on_coarse_changes(client, db, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "ref-1")
    before = client.get(f"/v1/reports/{rid}", headers=partner.headers).get_json()["updated_at"]
    claim(client, op, rid)
    assert _status_events(db) == []  # a claim is not something a partner sees
    move(client, op, rid, "in_review")
    move(client, op, rid, "closed", closure_reason="other", comment="Rien de plus")
    assert _status_events(db) == [
        {
            "report_id": rid,
            "partner_reference": "ref-1",
            "status": "in_review",
            "previous_status": "received",
        },
        {
            "report_id": rid,
            "partner_reference": "ref-1",
            "status": "closed",
            "previous_status": "in_review",
        },
    ]
    seen = client.get(f"/v1/reports/{rid}", headers=partner.headers).get_json()
    assert seen["status"] == "closed"
    assert seen["updated_at"] > before
    assert "closure_reason" not in seen


def test_history_says_where_each_move_came_from(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    move(client, op, rid, "in_review")
    move(client, op, rid, "closed", closure_reason="no_grounds")
    detail = client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()
    assert [(h["from"], h["to"]) for h in detail["history"]] == [
        ("received", "in_review"),
        ("in_review", "closed"),
    ]

"""Periodic jobs, called directly with a moved clock: claim expiry, escalation, retention."""

from __future__ import annotations

from sqlalchemy import func, select

from triage_support import P1, claim, move, report
from vigie import clock
from vigie.outbox.models import OutboxEvent
from vigie.reports.models import Report
from vigie.triage import jobs
from vigie.triage.models import Note, Referral, Transition
from vigie.worker import PERIODIC_JOBS


def _runtime(app):
    return app.extensions["vigie"]


def _overdue_events(db):
    with db.unit() as session:
        return [
            e.data["report_id"]
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.type == "triage.overdue")
            )
        ]


def test_the_jobs_are_registered_for_the_worker():
    targets = {job.target for job in PERIODIC_JOBS}
    assert {
        "vigie.triage.jobs:expire_claims",
        "vigie.triage.jobs:escalate_overdue",
        "vigie.triage.jobs:purge_expired",
    } <= targets


def test_expired_claims_are_cleared(app, client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    assert jobs.expire_claims(_runtime(app)) == 0
    clock.travel(16 * 60)
    assert jobs.expire_claims(_runtime(app)) == 1
    row = client.get("/v1/triage/queue", headers=op.headers).get_json()["items"][0]
    assert row["claim"] is None


def test_one_overdue_event_per_report_ever(app, db, client, partner, make_staff, post_report):
    op = make_staff()
    p1 = report(post_report, partner, "a", **P1)
    p4 = report(post_report, partner, "b")
    reviewed = report(post_report, partner, "c", **P1)
    claim(client, op, reviewed)
    move(client, op, reviewed, "in_review")
    rt = _runtime(app)
    assert jobs.escalate_overdue(rt) == 0
    clock.travel(16 * 60)
    assert jobs.escalate_overdue(rt) == 1
    assert jobs.escalate_overdue(rt) == 0  # the next run does not repeat it
    assert _overdue_events(db) == [p1]
    row = client.get("/v1/triage/queue", headers=op.headers).get_json()["items"][0]
    assert (row["id"], row["overdue"], row["escalated"]) == (p1, True, True)
    clock.travel(72 * 3600)
    assert jobs.escalate_overdue(rt) == 1
    assert _overdue_events(db) == [p1, p4]


def test_retention_erases_personal_fields_and_keeps_statistics(
    app, db, client, partner, make_staff, post_report
):
    op, sam = make_staff(), make_staff("supervisor")
    old = report(
        post_report,
        partner,
        "old",
        reporter={"role": "host", "contact_consent": True, "contact": {"name": "Jeanne"}},
    )
    recent = report(post_report, partner, "recent")
    still_open = report(post_report, partner, "open")
    client.post(f"/v1/triage/reports/{old}/notes", json={"body": "secret"}, headers=op.headers)
    claim(client, op, old)
    move(client, op, old, "in_review", comment="appel")
    client.post(
        f"/v1/triage/reports/{old}/referrals",
        json={"target_type": "law_enforcement", "note": "OCRTEH"},
        headers=op.headers,
    )
    move(client, op, old, "closed", closure_reason="handled_by_law_enforcement")
    rt = _runtime(app)
    retention = rt.config.get("retention_days")
    assert retention == 365
    clock.travel(200 * 86400)
    claim(client, op, recent)
    move(client, op, recent, "closed", closure_reason="no_grounds")
    assert jobs.purge_expired(rt) == 0
    clock.travel(166 * 86400)
    assert jobs.purge_expired(rt) == 1
    assert jobs.purge_expired(rt) == 0

    detail = client.get(f"/v1/triage/reports/{old}", headers=op.headers).get_json()
    assert detail["purged_at"]
    assert detail["description"] is None
    assert detail["reporter"]["contact"] is None
    assert detail["stay"]["listing_reference"] is None
    assert detail["notes"][0]["body"] is None
    assert all(h["comment"] is None for h in detail["history"])
    assert detail["referrals"][0]["note"] is None
    # Statistics survive: priority, closure reason, referral type and outcome.
    assert detail["closure_reason"] == "handled_by_law_enforcement"
    assert detail["referrals"][0]["target_type"] == "law_enforcement"
    with db.unit() as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 1
        assert session.scalar(select(func.count()).select_from(Transition)) >= 3
        assert session.scalar(select(func.count()).select_from(Referral)) == 1
        kept = session.scalar(select(Report).where(Report.public_id == recent))
        assert kept.description_enc is not None
        untouched = session.scalar(select(Report).where(Report.public_id == still_open))
        assert untouched.purged_at is None
    log = client.get(
        f"/v1/audit?report_id={old}&action=report.purged", headers=sam.headers
    ).get_json()
    assert [(e["actor"], e["details"]) for e in log] == [
        ("system:retention", {"retention_days": 365})
    ]
    assert (
        client.post(
            f"/v1/triage/reports/{old}/notes", json={"body": "x"}, headers=op.headers
        ).status_code
        == 409
    )

"""Periodic triage work, run by the worker (each job under its lock) or called by tests.

Each function takes the Runtime, opens its own short units of work and returns how
many reports it touched.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.outbox import service as outbox
from vigie.reports.models import Report
from vigie.runtime import Runtime
from vigie.triage.models import Note, Referral, Transition
from vigie.triage.service import open_only

log = logging.getLogger(__name__)
BATCH = 500


def expire_claims(runtime: Runtime) -> int:
    """Clear leases past their expiry (they are already ignored; this tidies the queue view)."""
    now = clock.now()
    with runtime.db.unit() as session:
        result = session.execute(
            update(Report)
            .where(Report.claim_expires_at.is_not(None), Report.claim_expires_at < now)
            .values(claimed_by_id=None, claim_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.info("expired claims cleared", extra={"count": count})
    return count


def escalate_overdue(runtime: Runtime) -> int:
    """One `triage.overdue` event per report ever: reports past their response time unreviewed.

    `overdue_notified_at` is set in the same transaction as the event and never cleared,
    so later runs (or a report reopened later) never escalate the same report twice.
    """
    total = 0
    while True:
        now = clock.now()
        with runtime.db.unit() as session:
            reports = list(
                session.scalars(
                    select(Report)
                    .where(
                        open_only(),
                        Report.status == "received",
                        Report.due_at < now,
                        Report.overdue_notified_at.is_(None),
                    )
                    .order_by(Report.priority, Report.due_at, Report.received_at, Report.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for report in reports:
                report.overdue_notified_at = now
                outbox.emit(
                    session=session,
                    event_type="triage.overdue",
                    data={
                        "report_id": report.public_id,
                        "priority": report.priority,
                        "due_at": report.due_at.isoformat(),
                        "received_at": report.received_at.isoformat(),
                    },
                )
                audit.record(
                    session=session,
                    who=Who.system("escalation"),
                    action="report.escalated",
                    report_id=report.public_id,
                    details={"priority": report.priority},
                )
        total += len(reports)
        if len(reports) < BATCH:
            break
    if total:
        log.info("overdue reports escalated", extra={"count": total})
    return total


def purge_expired(runtime: Runtime) -> int:
    """Erase the personal fields of reports closed more than `retention_days` ago.

    Kept: everything the indicators use (dates, priority, status, context, département,
    indicators, counts of persons, referrals' type and outcome, closure reason).
    Erased: description, contact, listing/booking/flight references and their blind
    indexes, notes, move comments and referral notes. One audit entry per report.
    """
    days = runtime.config.retention_days
    total = 0
    while True:
        now = clock.now()
        cutoff = now - timedelta(days=days)
        with runtime.db.unit() as session:
            reports = list(
                session.scalars(
                    select(Report)
                    .where(
                        Report.status == "closed",
                        Report.closed_at < cutoff,
                        Report.purged_at.is_(None),
                    )
                    .order_by(Report.closed_at, Report.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            ids = [r.id for r in reports]
            for report in reports:
                report.description_enc = None
                report.contact_enc = None
                report.listing_reference_enc = None
                report.listing_index = None
                report.booking_reference_enc = None
                report.flight_number_enc = None
                report.flight_index = None
                report.commune = None
                report.lat = None
                report.lon = None
                report.purged_at = now
            if ids:
                session.execute(update(Note).where(Note.report_id.in_(ids)).values(body_enc=None))
                session.execute(
                    update(Transition).where(Transition.report_id.in_(ids)).values(comment_enc=None)
                )
                session.execute(
                    update(Referral)
                    .where(Referral.report_id.in_(ids))
                    .values(note_enc=None, languages=[])
                )
            for report in reports:
                audit.record(
                    session=session,
                    who=Who.system("retention"),
                    action="report.purged",
                    report_id=report.public_id,
                    details={"retention_days": days},
                )
        total += len(reports)
        if len(reports) < BATCH:
            break
    if total:
        log.info("personal fields erased", extra={"count": total})
    return total

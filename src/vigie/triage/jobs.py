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
from vigie.triage.erasure import erase_personal_fields
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

    What is kept and erased: `vigie.triage.erasure`. One audit entry per report.
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
            erase_personal_fields(session=session, reports=reports, now=now)
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

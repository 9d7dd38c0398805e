"""Erasing a report's personal fields: by the retention job, or on request (`vigie report erase`).

Kept: everything the indicators use (dates, priority, status, context, département,
indicators, counts of persons, referrals' type and outcome, closure reason).
Erased: description, contact, listing/booking/flight references and their blind indexes,
commune and coordinates, notes, move comments, referral notes and languages.
docs/PRIVACY.md lists every column and whether it is erased; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid, field_error
from vigie.reports.models import Report
from vigie.triage.models import Note, Referral, Transition

# The report's columns set to NULL on erasure (the personal fields and what points at them).
ERASED_REPORT_COLUMNS = (
    "description_enc",
    "contact_enc",
    "listing_reference_enc",
    "listing_index",
    "booking_reference_enc",
    "flight_number_enc",
    "flight_index",
    "commune",
    "lat",
    "lon",
)
REASON_MAX = 200


def erase_personal_fields(*, session: Session, reports: Sequence[Report], now: datetime) -> None:
    """Erase the personal fields of these (locked) reports and of their notes, moves and
    referrals, and mark them erased. Writes no audit entry: the caller says why."""
    for report in reports:
        for column in ERASED_REPORT_COLUMNS:
            setattr(report, column, None)
        report.purged_at = now
    ids = [report.id for report in reports]
    if not ids:
        return
    session.execute(update(Note).where(Note.report_id.in_(ids)).values(body_enc=None))
    session.execute(
        update(Transition).where(Transition.report_id.in_(ids)).values(comment_enc=None)
    )
    session.execute(
        update(Referral).where(Referral.report_id.in_(ids)).values(note_enc=None, languages=[])
    )


def erase(*, session: Session, report_id: str, who: Who, reason: str) -> Report:
    """Erase one closed report's personal fields on request, audited with the reason.

    An open report is refused: its description and contact are what operators need to get
    people to safety; it is closed first (an operator's decision, audited), then erased.
    """
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        detail = f"Give a reason of 1 to {REASON_MAX} characters, without personal data."
        raise Invalid(detail, errors=[field_error("reason", detail)])
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    if report.status != "closed":
        raise Conflict(f"Report {report_id} is {report.status}: close it before erasing it.")
    if report.purged_at is not None:
        raise Conflict(f"Report {report_id} was already erased on {report.purged_at:%Y-%m-%d}.")
    erase_personal_fields(session=session, reports=[report], now=clock.now())
    audit.record(
        session=session,
        who=who,
        action="report.erased",
        report_id=report.public_id,
        details={"reason": reason},
    )
    return report

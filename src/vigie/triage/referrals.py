"""Referrals of a report to shelters and services, and the shelters suggested for it.

Triage uses the shelter directory, never the reverse: suggestions hand the directory the
plain facts of the report, and referrals take or free a shelter's places through it.
Like the rest of triage, nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.crypto import Crypto
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid, NotFound
from vigie.ids import new_id
from vigie.outbox import service as outbox
from vigie.reports.models import Report
from vigie.shelters import service as shelters
from vigie.shelters.models import Shelter
from vigie.triage import service as triage
from vigie.triage.models import OUTCOME_MOVES, Referral


def suggestions(
    *, session: Session, report_id: str, shelter_type: str | None, limit: int
) -> list[shelters.Suggestion]:
    """Shelters ranked for a report (see `shelters.service.rank` for the scores)."""
    report = get_or_404(session, Report, report_id, what="report")
    needs = shelters.Needs(
        department=report.department,
        minors_involved=report.minors_involved,
        persons_count=report.persons_count,
    )
    return shelters.rank(session=session, needs=needs, shelter_type=shelter_type, limit=limit)


def referrals_for(*, session: Session, crypto: Crypto, report_id: str) -> list[Referral]:
    report = get_or_404(session, Report, report_id, what="report")
    return triage.load_referrals(session, crypto, Referral.report_id == report.id)


def _target(session: Session, shelter_id: str | None, target_type: str) -> Shelter | None:
    """The shelter referred to, locked for its capacity, if the referral names one."""
    if shelter_id is None:
        return None
    shelter = shelters.get(session=session, shelter_id=shelter_id, lock=True)
    if shelter.archived:
        raise Invalid("This shelter is archived.", field="shelter_id")
    if shelter.type != target_type:
        raise Invalid(f"This shelter is a {shelter.type}, not a {target_type}.", field="shelter_id")
    return shelter


def _move_to_referred(session: Session, crypto: Crypto, report: Report, who: Who) -> None:
    """A report still `received` passes through in_review: the referral is its first review."""
    if report.status == "referred":
        return
    if report.status == "received":
        triage.set_status(session=session, crypto=crypto, report=report, to="in_review", who=who)
    triage.set_status(session=session, crypto=crypto, report=report, to="referred", who=who)


def refer(
    *,
    session: Session,
    crypto: Crypto,
    report_id: str,
    who: Who,
    target_type: str,
    shelter_id: str | None,
    note: str | None,
) -> Referral:
    """Record an orientation: the report moves to `referred`, the shelter's availability drops.

    A report still `received` may be referred straight away (the referral is its first
    review); a closed report may not.
    """
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    if report.status == "closed":
        raise Conflict(
            "A closed report cannot be referred.", status_now="closed", allowed=["in_review"]
        )
    shelter = _target(session, shelter_id, target_type)
    triage.require_claim(session=session, report=report, who=who)
    now = clock.now()
    referral = Referral(
        public_id=new_id("ref"),
        report_id=report.id,
        target_type=target_type,
        shelter_id=shelter.id if shelter else None,
        status="pending",
        note_enc=crypto.encrypt(note) if note else None,
        created_by_id=who.operator_id,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    if shelter is not None:
        shelters.take_place(shelter, now)
    _move_to_referred(session, crypto, report, who)
    outbox.emit(
        session=session,
        event_type="referral.created",
        data={
            "referral_id": referral.public_id,
            "report_id": report.public_id,
            "target_type": target_type,
            "shelter_id": shelter.public_id if shelter else None,
            "integration": shelter.integration if shelter else None,
        },
    )
    audit.record(
        session=session,
        who=who,
        action="referral.created",
        report_id=report.public_id,
        target=referral.public_id,
        details={
            "target_type": target_type,
            "shelter_id": shelter.public_id if shelter else None,
        },
    )
    return _loaded(session, crypto, referral)


def _referral_on(session: Session, report: Report, report_id: str, referral_id: str) -> Referral:
    """The report's referral, locked. Not `get_or_404`: the 404 names the report too."""
    referral = session.scalar(
        select(Referral)
        .where(Referral.public_id == referral_id, Referral.report_id == report.id)
        .with_for_update()
    )
    if referral is None:
        raise NotFound(f"No referral {referral_id} on report {report_id}.")
    return referral


def _count_outcome(session: Session, referral: Referral, status: str, now: datetime) -> None:
    """A declined referral frees the place it took; no_capacity is the shelter saying full."""
    if referral.shelter_id is None or status not in ("declined", "no_capacity"):
        return
    shelter = shelters.lock_for_capacity(session=session, pk=referral.shelter_id)
    if shelter is None:
        return
    if status == "declined":
        shelters.free_place(shelter, now)
    else:
        shelters.declare_full(shelter, now)


def record_outcome(
    *, session: Session, crypto: Crypto, report_id: str, referral_id: str, who: Who, status: str
) -> Referral:
    """accepted / declined / no_capacity, then completed after accepted. No claim needed:
    outcomes arrive days later, by phone, to whoever picks up."""
    report = get_or_404(session, Report, report_id, what="report")
    referral = _referral_on(session, report, report_id, referral_id)
    allowed = list(OUTCOME_MOVES[referral.status])
    if status not in allowed:
        raise Conflict(
            f"A referral cannot go from {referral.status} to {status}.",
            status_now=referral.status,
            allowed=allowed,
        )
    now = clock.now()
    previous = referral.status
    referral.status = status
    referral.outcome_at = now
    referral.updated_at = now
    _count_outcome(session, referral, status, now)
    audit.record(
        session=session,
        who=who,
        action="referral.outcome",
        report_id=report.public_id,
        target=referral.public_id,
        details={"from": previous, "to": status},
    )
    return _loaded(session, crypto, referral)


def _loaded(session: Session, crypto: Crypto, referral: Referral) -> Referral:
    """The referral as responses show it (report, shelter and author loaded, note in clear)."""
    (loaded,) = triage.load_referrals(session, crypto, Referral.id == referral.id)
    return loaded

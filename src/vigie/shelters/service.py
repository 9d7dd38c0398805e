"""The shelter directory, referrals of a report, and shelter suggestions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.crypto import Crypto
from vigie.errors import Conflict, Invalid, NotFound
from vigie.ids import new_id
from vigie.operators.models import Operator
from vigie.outbox import service as outbox
from vigie.reports.models import Report
from vigie.shelters.models import OUTCOME_MOVES, Referral, Shelter
from vigie.triage import service as triage

EDITABLE = (
    "name",
    "type",
    "departments",
    "accepts",
    "languages",
    "capacity_total",
    "capacity_available",
    "contact",
    "integration",
)


# -- directory ------------------------------------------------------------------------------


def _check_capacity(total: int, available: int) -> None:
    if available > total:
        raise Invalid(
            "capacity_available cannot exceed capacity_total.", field="capacity_available"
        )


def create(*, session: Session, who: Who, data: dict[str, Any]) -> Shelter:
    _check_capacity(data["capacity_total"], data["capacity_available"])
    now = clock.now()
    shelter = Shelter(
        public_id=new_id("shl"),
        created_at=now,
        updated_at=now,
        capacity_updated_at=now,
        archived_at=None,
        **{key: data[key] for key in EDITABLE},
    )
    session.add(shelter)
    session.flush()
    audit.record(
        session=session,
        who=who,
        action="shelter.created",
        target=shelter.public_id,
        details={"type": shelter.type},
    )
    return shelter


def get(*, session: Session, shelter_id: str, lock: bool = False) -> Shelter:
    query = select(Shelter).where(Shelter.public_id == shelter_id)
    if lock:
        query = query.with_for_update()
    shelter = session.scalar(query)
    if shelter is None:
        raise NotFound(f"No shelter {shelter_id}.")
    return shelter


def list_(
    *, session: Session, department: str | None, type: str | None, include_archived: bool
) -> list[Shelter]:
    query = select(Shelter).order_by(Shelter.name, Shelter.id)
    if type is not None:
        query = query.where(Shelter.type == type)
    if not include_archived:
        query = query.where(Shelter.archived_at.is_(None))
    shelters = list(session.scalars(query))
    if department is not None:  # a small directory: filtering the JSON list here is enough
        shelters = [s for s in shelters if department in s.departments]
    return shelters


def update(*, session: Session, who: Who, shelter_id: str, data: dict[str, Any]) -> Shelter:
    shelter = get(session=session, shelter_id=shelter_id, lock=True)
    now = clock.now()
    archived = data.pop("archived", None)
    changed = [key for key in EDITABLE if key in data and data[key] != getattr(shelter, key)]
    _check_capacity(
        data.get("capacity_total", shelter.capacity_total),
        data.get("capacity_available", shelter.capacity_available),
    )
    for key in changed:
        setattr(shelter, key, data[key])
    if "capacity_available" in data:  # a declaration, even of the same figure, is fresh news
        shelter.capacity_updated_at = now
    if archived is not None and archived != (shelter.archived_at is not None):
        shelter.archived_at = now if archived else None
        changed.append("archived")
    shelter.updated_at = now
    audit.record(
        session=session,
        who=who,
        action="shelter.updated",
        target=shelter.public_id,
        details={"fields": sorted(set(changed) | ({"capacity_available"} & set(data)))},
    )
    return shelter


def view(shelter: Shelter) -> dict[str, Any]:
    return {
        "id": shelter.public_id,
        "name": shelter.name,
        "type": shelter.type,
        "departments": shelter.departments,
        "accepts": shelter.accepts,
        "languages": shelter.languages,
        "capacity_total": shelter.capacity_total,
        "capacity_available": shelter.capacity_available,
        "capacity_updated_at": shelter.capacity_updated_at,
        "contact": shelter.contact,
        "integration": shelter.integration,
        "created_at": shelter.created_at,
        "updated_at": shelter.updated_at,
        "archived": shelter.archived_at is not None,
    }


# -- suggestions ----------------------------------------------------------------------------


def suggestions(
    *, session: Session, report_id: str, type: str | None, limit: int
) -> list[dict[str, Any]]:
    """Shelters ranked for a report: département, who they accept, then available capacity.

    Scores: serving the report's département 100; accepting minors when minors are
    involved 50 (and -100 when they do not); accepting families when several people
    include minors 10; having a free place 20; then more free places first. The
    canonical report has no gender field, so gender is not scored.
    """
    report = triage.get_report(session=session, report_id=report_id)
    shelters = list_(session=session, department=None, type=type, include_archived=False)
    ranked = []
    for shelter in shelters:
        score, reasons = 0, []
        if report.department and report.department in shelter.departments:
            score += 100
            reasons.append("serves_department")
        if report.minors_involved:
            if "minors" in shelter.accepts:
                score += 50
                reasons.append("accepts_minors")
            else:
                score -= 100
                reasons.append("does_not_accept_minors")
            if report.persons_count > 1 and "families" in shelter.accepts:
                score += 10
                reasons.append("accepts_families")
        if shelter.capacity_available > 0:
            score += 20
            reasons.append("has_capacity")
        else:
            reasons.append("no_capacity_declared")
        ranked.append((score, shelter.capacity_available, shelter, reasons))
    ranked.sort(key=lambda item: (-item[0], -item[1], item[2].name))
    return [
        {"score": score, "reasons": reasons, "shelter": view(shelter)}
        for score, _, shelter, reasons in ranked[:limit]
    ]


# -- referrals ------------------------------------------------------------------------------


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
    report = triage.get_report(session=session, report_id=report_id, lock=True)
    if report.status == "closed":
        raise Conflict(
            "A closed report cannot be referred.", status_now="closed", allowed=["in_review"]
        )
    shelter = None
    if shelter_id is not None:
        shelter = get(session=session, shelter_id=shelter_id, lock=True)
        if shelter.archived_at is not None:
            raise Invalid("This shelter is archived.", field="shelter_id")
        if shelter.type != target_type:
            raise Invalid(
                f"This shelter is a {shelter.type}, not a {target_type}.", field="shelter_id"
            )
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
        shelter.capacity_available = max(0, shelter.capacity_available - 1)
        shelter.updated_at = now
    if report.status != "referred":
        if report.status == "received":
            triage.set_status(
                session=session, crypto=crypto, report=report, to="in_review", who=who
            )
        triage.set_status(session=session, crypto=crypto, report=report, to="referred", who=who)
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
    return referral


def record_outcome(
    *, session: Session, report_id: str, referral_id: str, who: Who, status: str
) -> Referral:
    """accepted / declined / no_capacity, then completed after accepted. No claim needed:
    outcomes arrive days later, by phone, to whoever picks up."""
    report = triage.get_report(session=session, report_id=report_id)
    referral = session.scalar(
        select(Referral)
        .where(Referral.public_id == referral_id, Referral.report_id == report.id)
        .with_for_update()
    )
    if referral is None:
        raise NotFound(f"No referral {referral_id} on report {report_id}.")
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
    if referral.shelter_id is not None and status in ("declined", "no_capacity"):
        shelter = session.get(Shelter, referral.shelter_id, with_for_update=True)
        if shelter is not None:
            if status == "declined":  # the place we counted as taken is free again
                shelter.capacity_available = min(
                    shelter.capacity_total, shelter.capacity_available + 1
                )
            else:  # the shelter told us it is full: that is a fresh declaration
                shelter.capacity_available = 0
                shelter.capacity_updated_at = now
            shelter.updated_at = now
    audit.record(
        session=session,
        who=who,
        action="referral.outcome",
        report_id=report.public_id,
        target=referral.public_id,
        details={"from": previous, "to": status},
    )
    return referral


def referral_view(
    session: Session, crypto: Crypto, referral: Referral, *, with_note: bool = True
) -> dict[str, Any]:
    shelter = session.get(Shelter, referral.shelter_id) if referral.shelter_id else None
    author = session.get(Operator, referral.created_by_id)
    report_public_id = session.scalar(
        select(Report.public_id).where(Report.id == referral.report_id)
    )
    return {
        "id": referral.public_id,
        "report_id": report_public_id,
        "target_type": referral.target_type,
        "shelter": {"id": shelter.public_id, "name": shelter.name} if shelter else None,
        "status": referral.status,
        "note": crypto.decrypt(referral.note_enc) if with_note else None,
        "created_by": {"id": author.public_id, "name": author.name} if author else None,
        "created_at": referral.created_at,
        "outcome_at": referral.outcome_at,
    }


def referrals_for(*, session: Session, crypto: Crypto, report: Report) -> list[dict[str, Any]]:
    return [
        referral_view(session, crypto, r)
        for r in session.scalars(
            select(Referral).where(Referral.report_id == report.id).order_by(Referral.id)
        )
    ]

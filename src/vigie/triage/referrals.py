"""Referrals of a report to shelters and services, and the shelters suggested for it.

Triage uses the shelter directory, never the reverse: suggestions hand the directory the
plain facts of the report, and referrals take or free a shelter's places through it.
A referral to a shelter of a shelter network is also forwarded to the network's intake: an
outbox event routed to that network alone, which the webhook worker sends through the
network's forwarder; the network answers with outcomes (`record_network_outcome`), which
take the same path as the staff's (`record_outcome`).
Like the rest of triage, nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.crypto import Crypto
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid, NotFound
from vigie.ids import new_id
from vigie.integrations import ForwardedReferral
from vigie.outbox import service as outbox
from vigie.reports.models import Report
from vigie.shelters import service as shelters
from vigie.shelters.models import NETWORK_FORWARDER, Shelter, ShelterNetwork
from vigie.triage import service as triage
from vigie.triage.models import NETWORK_TERMS, OUTCOME_MOVES, REFUSALS, Referral

# A referral still holding a place, or that did: a report with one stays `referred`.
IN_FORCE = ("pending", "accepted", "completed")


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
        raise Invalid(
            f"This shelter's type is {shelter.type} but the referral's target_type is "
            f"{target_type}: refer with target_type {shelter.type}, or choose a shelter of type "
            f"{target_type}.",
            field="shelter_id",
        )
    return shelter


def _network_of(shelter: Shelter | None) -> ShelterNetwork | None:
    """The live network a referral to `shelter` is forwarded to, if any."""
    if shelter is None or shelter.integration != NETWORK_FORWARDER:
        return None
    network = shelter.network
    return network if network is not None and not network.revoked else None


def _forward(session: Session, report: Report, referral: Referral, shelter: Shelter) -> None:
    """Write the `referral.created` event routed to the shelter's network, in this transaction:
    the facts a shelter needs to act (`ForwardedReferral`), nothing about who reported."""
    network = _network_of(shelter)
    if network is None:
        return
    referral.shelter_network_id = network.id
    facts: ForwardedReferral = {
        "referral_id": referral.public_id,
        "shelter": {"id": shelter.public_id, "name": shelter.name},
        "target_type": referral.target_type,
        "priority": report.priority,
        "department": report.department,
        "persons": {
            "count": report.persons_count,
            "minors": report.minors,
            "minors_involved": report.minors_involved,
        },
        "languages": list(referral.languages),
    }
    outbox.emit(
        session=session,
        event_type="referral.created",
        data=dict(facts),
        shelter_network_id=network.id,
    )


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
    languages: Sequence[str] = (),
) -> Referral:
    """Record an orientation: the report moves to `referred`, the shelter's availability drops.

    A report still `received` may be referred straight away (the referral is its first
    review); a closed report may not. A shelter of a shelter network gets it forwarded.
    `languages` are those the people speak, for the shelter.
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
        languages=list(dict.fromkeys(languages)),
        created_by_id=who.operator_id,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    if shelter is not None:
        shelters.take_place(shelter, now)
        _forward(session, report, referral, shelter)
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
            "forwarded": referral.shelter_network_id is not None,
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


def _refusal_reason(status: str, reason: str | None) -> str | None:
    """The reason stored with an outcome: refusals only; no_capacity is its own reason."""
    if status not in REFUSALS:
        if reason is not None:
            raise Invalid("A reason is only given when the referral is refused.", field="reason")
        return None
    if status == "no_capacity":
        if reason not in (None, "no_capacity"):
            raise Invalid("no_capacity is its own reason.", field="reason")
        return "no_capacity"
    if reason == "no_capacity":
        raise Invalid("A refusal for lack of places is the outcome no_capacity.", field="reason")
    return reason


def _back_to_review(session: Session, crypto: Crypto, report: Report, who: Who) -> bool:
    """A referred report none of whose referrals is in force any more needs another
    orientation: it goes back to in_review (the partner sees in_review instead of actioned)."""
    if report.status != "referred":
        return False
    in_force = session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.report_id == report.id, Referral.status.in_(IN_FORCE))
    )
    if in_force:
        return False
    triage.set_status(session=session, crypto=crypto, report=report, to="in_review", who=who)
    return True


def record_outcome(
    *,
    session: Session,
    crypto: Crypto,
    report_id: str,
    referral_id: str,
    who: Who,
    status: str,
    reason: str | None = None,
) -> Referral:
    """accepted / declined / no_capacity, then completed after accepted. No claim needed:
    outcomes arrive days later, by phone, to whoever picks up.

    A refusal may give a `reason`. When the last referral in force of a referred report is
    refused, the report goes back to in_review."""
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    referral = _referral_on(session, report, report_id, referral_id)
    allowed = list(OUTCOME_MOVES[referral.status])
    if status not in allowed:
        raise Conflict(
            f"A referral cannot go from {referral.status} to {status}.",
            status_now=referral.status,
            allowed=allowed,
        )
    return _apply_outcome(session, crypto, report, referral, who, status, reason)


def _apply_outcome(
    session: Session,
    crypto: Crypto,
    report: Report,
    referral: Referral,
    who: Who,
    status: str,
    reason: str | None,
) -> Referral:
    """Record an outcome already allowed, on a report and referral the caller has locked:
    places freed or declared full, the report back to review if nothing is in force, audit."""
    stored_reason = _refusal_reason(status, reason)
    now = clock.now()
    previous = referral.status
    referral.status = status
    referral.outcome_reason = stored_reason
    referral.outcome_at = now
    referral.updated_at = now
    _count_outcome(session, referral, status, now)
    details: dict[str, str] = {"from": previous, "to": status}
    if stored_reason is not None:
        details["reason"] = stored_reason
    if status in REFUSALS and _back_to_review(session, crypto, report, who):
        details["report_status"] = "in_review"
    audit.record(
        session=session,
        who=who,
        action="referral.outcome",
        report_id=report.public_id,
        target=referral.public_id,
        details=details,
    )
    return _loaded(session, crypto, referral)


def network_status(outcome: str, reason: str | None) -> str:
    """A network's outcome as a referral status: `refused` is no_capacity for lack of places,
    declined otherwise."""
    if outcome != "refused":
        return outcome
    return "no_capacity" if reason == "no_capacity" else "declined"


def record_network_outcome(
    *,
    session: Session,
    crypto: Crypto,
    network_id: int,
    referral_id: str,
    who: Who,
    outcome: str,
    reason: str | None,
) -> Referral:
    """A shelter network's outcome of a referral forwarded to it, recorded as the staff's is
    (the same steps as `record_outcome`, the same locks in the same order).

    Another network's referral, or one never forwarded, is indistinguishable from a missing
    one (404). Sending the outcome the referral already has changes nothing (a network may
    repeat a callback); a move the referral cannot make is a 409 in the network's terms."""
    report_id = session.scalar(
        select(Report.public_id)
        .join(Referral, Referral.report_id == Report.id)
        .where(Referral.public_id == referral_id, Referral.shelter_network_id == network_id)
    )
    if report_id is None:
        raise NotFound(f"No referral {referral_id} was forwarded to this shelter network.")
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    referral = _referral_on(session, report, report_id, referral_id)
    status = network_status(outcome, reason)
    if status == referral.status and referral.outcome_reason == _refusal_reason(status, reason):
        return _loaded(session, crypto, referral)
    if status not in OUTCOME_MOVES[referral.status]:
        raise Conflict(
            f"This referral is {NETWORK_TERMS.get(referral.status, 'pending')}; "
            f"it cannot become {outcome}.",
            outcome_now=NETWORK_TERMS.get(referral.status),
            allowed=list(dict.fromkeys(NETWORK_TERMS[s] for s in OUTCOME_MOVES[referral.status])),
        )
    return _apply_outcome(session, crypto, report, referral, who, status, reason)


def _loaded(session: Session, crypto: Crypto, referral: Referral) -> Referral:
    """The referral as responses show it (report, shelter and author loaded, note in clear)."""
    (loaded,) = triage.load_referrals(session, crypto, Referral.id == referral.id)
    return loaded

"""The triage queue and the work on one report: claims, moves, notes, detail.

Every function takes an explicit session and never commits: the view (or job)
commits once, so a report change, its outbox event and its audit entry share a
transaction. Functions return what the response schema dumps: ORM objects, or small
values (`Claim`, `ReportState`) where a response says more than one row; only the
queue rows and the full report (`detail`, decrypted) are built field by field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    func,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased, joinedload

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.crypto import Crypto
from vigie.db import get_or_404
from vigie.errors import Conflict, Forbidden, Invalid
from vigie.ids import new_id
from vigie.operators.models import Operator
from vigie.outbox import service as outbox
from vigie.pagination import Key, Keyset, Page
from vigie.partners.models import Partner
from vigie.reports.models import COARSE_STATUS, Report
from vigie.reports.priority import PRIORITIES
from vigie.triage.models import MOVES, OPEN_STATUSES, Note, Referral, Transition


def open_only() -> Any:
    """The queue predicate, written literally so the partial indexes apply on SQLite too."""
    return Report.status != literal_column("'closed'")


# -- claims and the guard on moves ---------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A report's claim as operators see it: the live lease's holder and expiry, or nobody."""

    report_id: str
    holder: Operator | None = None
    expires_at: datetime | None = None


def claim_is_live(report: Report, now: datetime) -> bool:
    return (
        report.claimed_by_id is not None
        and report.claim_expires_at is not None
        and report.claim_expires_at > now
    )


def claim_of(session: Session, report: Report) -> Claim:
    if not claim_is_live(report, clock.now()):
        return Claim(report.public_id)
    holder = session.get(Operator, report.claimed_by_id)
    return Claim(report.public_id, holder, report.claim_expires_at)


def _held_by_other(session: Session, report: Report) -> Conflict:
    """409 naming the live claim's holder and expiry (problem members, not a schema)."""
    operator = session.get(Operator, report.claimed_by_id)
    return Conflict(
        "Another operator holds the claim on this report.",
        holder={"id": operator.public_id, "name": operator.name} if operator else None,
        expires_at=report.claim_expires_at.isoformat() if report.claim_expires_at else None,
    )


def require_claim(*, session: Session, report: Report, who: Who) -> None:
    """Moving a report needs a live claim held by the caller (409 otherwise)."""
    now = clock.now()
    if claim_is_live(report, now) and report.claimed_by_id == who.operator_id:
        return
    if claim_is_live(report, now):
        raise _held_by_other(session, report)
    raise Conflict("Claim this report before working on it: POST .../claim.")


def set_status(
    *,
    session: Session,
    crypto: Crypto,
    report: Report,
    to: str,
    who: Who,
    comment: str | None = None,
    closure_reason: str | None = None,
) -> None:
    """Apply a move already checked; records history, first review and the partner event."""
    now = clock.now()
    previous = report.status
    report.status = to
    if previous == "received" and report.first_reviewed_at is None:
        report.first_reviewed_at = now
    session.add(
        Transition(
            report_id=report.id,
            operator_id=who.operator_id,
            from_status=previous,
            to_status=to,
            closure_reason=closure_reason,
            comment_enc=crypto.encrypt(comment) if comment else None,
            created_at=now,
        )
    )
    if COARSE_STATUS[previous] != COARSE_STATUS[to]:
        report.updated_at = now
        outbox.emit(
            session=session,
            event_type="report.status_changed",
            partner_id=report.partner_id,
            data={
                "report_id": report.public_id,
                "partner_reference": report.partner_reference,
                "status": COARSE_STATUS[to],
                "previous_status": COARSE_STATUS[previous],
            },
        )


def claim(*, session: Session, report_id: str, who: Who, takeover: bool, minutes: int) -> Claim:
    """Take or renew the lease.

    A live claim of someone else is 409 unless a supervisor takes over.
    """
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    now = clock.now()
    previous_holder = None
    if claim_is_live(report, now) and report.claimed_by_id != who.operator_id:
        if not takeover:
            raise _held_by_other(session, report)
        if who.role != "supervisor":
            raise Forbidden("Only a supervisor may take over another operator's claim.")
        previous_holder = session.get(Operator, report.claimed_by_id)
    renewed = claim_is_live(report, now) and report.claimed_by_id == who.operator_id
    report.claimed_by_id = who.operator_id
    report.claim_expires_at = now + timedelta(minutes=minutes)
    action = "report.claim_taken_over" if previous_holder else "report.claimed"
    details: dict[str, Any] = {"expires_at": report.claim_expires_at.isoformat()}
    if renewed:
        details["renewed"] = True
    if previous_holder:
        details["previous_holder"] = previous_holder.public_id
    audit.record(session=session, who=who, action=action, report_id=report_id, details=details)
    return claim_of(session, report)


def release(*, session: Session, report_id: str, who: Who) -> Claim:
    """Give the claim back; releasing another operator's live claim is 409 (supervisors may)."""
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    now = clock.now()
    held_by_other = claim_is_live(report, now) and report.claimed_by_id != who.operator_id
    if held_by_other and who.role != "supervisor":
        raise _held_by_other(session, report)
    had_claim = report.claimed_by_id is not None
    report.claimed_by_id = None
    report.claim_expires_at = None
    if had_claim:
        audit.record(session=session, who=who, action="report.released", report_id=report_id)
    return claim_of(session, report)


# -- moves ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportState:
    """A report after a move: its row, the public id of the report it duplicates, its claim."""

    report: Report
    duplicate_of: str | None
    claim: Claim


def _public_id(session: Session, report_pk: int | None) -> str | None:
    if report_pk is None:
        return None
    return session.scalar(select(Report.public_id).where(Report.id == report_pk))


def state_of(session: Session, report: Report) -> ReportState:
    """The state of a report after a move (not an audited read of its content)."""
    return ReportState(
        report, _public_id(session, report.duplicate_of_id), claim_of(session, report)
    )


def _check_move(report: Report, to: str, who: Who) -> None:
    """The vocabulary's rules: which status may follow which, and who may reopen."""
    allowed = list(MOVES[report.status])
    if to not in allowed:
        raise Conflict(
            f"A report cannot move from {report.status} to {to}.",
            status_now=report.status,
            allowed=allowed,
        )
    if to == "referred":
        raise Conflict(
            "A report is referred by recording a referral: POST .../referrals.",
            status_now=report.status,
            allowed=[m for m in allowed if m != "referred"],
        )
    if report.status == "closed" and who.role != "supervisor":
        raise Forbidden("Only a supervisor may reopen a closed report.")


def _check_not_closing(closure_reason: str | None, duplicate_of: str | None) -> None:
    for name, value in (("closure_reason", closure_reason), ("duplicate_of", duplicate_of)):
        if value is not None:
            raise Invalid(f"{name} is only given when closing.", field=name)


def _closing_duplicate(
    session: Session, report: Report, closure_reason: str | None, duplicate_of: str | None
) -> Report | None:
    """Check the fields of a closing move; the report this one duplicates, if it is one."""
    if closure_reason is None:
        raise Invalid("A closure reason is required to close a report.", field="closure_reason")
    if closure_reason != "duplicate":
        if duplicate_of is not None:
            raise Invalid("duplicate_of goes with closure_reason duplicate.", field="duplicate_of")
        return None
    if duplicate_of is None:
        raise Invalid("Name the report this one duplicates.", field="duplicate_of")
    duplicate = session.scalar(select(Report).where(Report.public_id == duplicate_of))
    if duplicate is None or duplicate.id == report.id:
        raise Invalid("No other report with this id.", field="duplicate_of")
    return duplicate


def _record_closure(
    report: Report, previous: str, closure_reason: str | None, duplicate: Report | None
) -> None:
    """Closing sets the closure fields and frees the claim; reopening clears them."""
    if report.status == "closed":
        report.closed_at = clock.now()
        report.closure_reason = closure_reason
        report.duplicate_of_id = duplicate.id if duplicate else None
        report.claimed_by_id = None  # a closed report needs no one's attention
        report.claim_expires_at = None
    elif previous == "closed":
        report.closed_at = None
        report.closure_reason = None
        report.duplicate_of_id = None


def transition(
    *,
    session: Session,
    crypto: Crypto,
    report_id: str,
    who: Who,
    to: str,
    comment: str | None,
    closure_reason: str | None,
    duplicate_of: str | None,
) -> ReportState:
    report = get_or_404(session, Report, report_id, what="report", lock=True)
    _check_move(report, to, who)
    duplicate = None
    if to == "closed":
        duplicate = _closing_duplicate(session, report, closure_reason, duplicate_of)
    else:
        _check_not_closing(closure_reason, duplicate_of)
    require_claim(session=session, report=report, who=who)

    previous = report.status
    set_status(
        session=session,
        crypto=crypto,
        report=report,
        to=to,
        who=who,
        comment=comment,
        closure_reason=closure_reason,
    )
    _record_closure(report, previous, closure_reason, duplicate)
    details: dict[str, Any] = {"from": previous, "to": to}
    if closure_reason:
        details["closure_reason"] = closure_reason
    if duplicate is not None:
        details["duplicate_of"] = duplicate.public_id
    audit.record(
        session=session, who=who, action="report.transition", report_id=report_id, details=details
    )
    return state_of(session, report)


# -- notes ----------------------------------------------------------------------------------


def add_note(*, session: Session, crypto: Crypto, report_id: str, who: Who, body: str) -> Note:
    """Notes need no claim: they add, they do not change the report's course."""
    report = get_or_404(session, Report, report_id, what="report")
    if report.purged_at is not None:
        raise Conflict("This report's personal fields were erased; no notes can be added.")
    note = Note(
        public_id=new_id("note"),
        report_id=report.id,
        author=session.get(Operator, who.operator_id),
        body_enc=crypto.encrypt(body),
        created_at=clock.now(),
    )
    session.add(note)
    session.flush()
    audit.record(
        session=session,
        who=who,
        action="report.note_added",
        report_id=report_id,
        target=note.public_id,
    )
    note.body = body
    return note


def _notes(session: Session, crypto: Crypto, report: Report) -> list[Note]:
    notes = list(
        session.scalars(
            select(Note)
            .options(joinedload(Note.author))
            .where(Note.report_id == report.id)
            .order_by(Note.id)
        )
    )
    for note in notes:
        note.body = crypto.decrypt(note.body_enc)
    return notes


def _history(session: Session, crypto: Crypto, report: Report) -> list[Transition]:
    moves = list(
        session.scalars(
            select(Transition)
            .options(joinedload(Transition.operator))
            .where(Transition.report_id == report.id)
            .order_by(Transition.id)
        )
    )
    for move in moves:
        move.comment = crypto.decrypt(move.comment_enc)
    return moves


# -- referrals (read; recording them is triage.referrals) ----------------------------------


def load_referrals(session: Session, crypto: Crypto, *where: ColumnElement[bool]) -> list[Referral]:
    """Referrals as responses show them, oldest first: report, shelter and author loaded
    (a response may be dumped after its session closed) and the note in clear."""
    referrals = list(
        session.scalars(
            select(Referral)
            .options(
                joinedload(Referral.report),
                joinedload(Referral.shelter),
                joinedload(Referral.shelter_network),
                joinedload(Referral.created_by),
            )
            .where(*where)
            .order_by(Referral.id)
        )
    )
    for referral in referrals:
        referral.note = crypto.decrypt(referral.note_enc)
    return referrals


# -- related reports ------------------------------------------------------------------------


def _related_matches(report: Report) -> list[ColumnElement[bool]]:
    matches = []
    if report.listing_index:
        matches.append(Report.listing_index == report.listing_index)
    if report.flight_index:
        matches.append(Report.flight_index == report.flight_index)
    matches.append(Report.duplicate_of_id == report.id)
    if report.duplicate_of_id:
        matches.append(Report.id == report.duplicate_of_id)
    return matches


def _related_reasons(report: Report, row: Any) -> list[str]:
    reasons = []
    if report.listing_index and row.listing_index == report.listing_index:
        reasons.append("same_listing")
    if report.flight_index and row.flight_index == report.flight_index:
        reasons.append("same_flight")
    if row.duplicate_of_id == report.id:
        reasons.append("duplicate_of_this")
    if report.duplicate_of_id == row.id:
        reasons.append("this_is_duplicate_of")
    return reasons


def related_reports(*, session: Session, report: Report) -> list[dict[str, Any]]:
    """Same listing (blind index) or same flight number and date; also declared duplicates."""
    rows = session.execute(
        select(
            Report.public_id,
            Report.priority,
            Report.status,
            Report.received_at,
            Report.listing_index,
            Report.flight_index,
            Report.duplicate_of_id,
            Report.id,
            Partner.public_id.label("partner_id"),
        )
        .join(Partner, Partner.id == Report.partner_id)
        .where(or_(*_related_matches(report)), Report.id != report.id)
        .order_by(Report.received_at, Report.id)
        .limit(200)
    )
    return [
        {
            "id": row.public_id,
            "priority": row.priority,
            "status": row.status,
            "received_at": row.received_at,
            "partner_id": row.partner_id,
            "reasons": _related_reasons(report, row),
        }
        for row in rows
    ]


def _related_counts(session: Session, column: Any, values: set[str]) -> dict[str, int]:
    if not values:
        return {}
    rows = session.execute(
        select(column, func.count()).where(column.in_(values)).group_by(column)
    ).all()
    return {value: count for value, count in rows}


# -- detail ---------------------------------------------------------------------------------


def _decrypt_json(crypto: Crypto, token: str | None) -> Any:
    plain = crypto.decrypt(token)
    return json.loads(plain) if plain else None


def _location(report: Report) -> dict[str, Any]:
    return {
        "country": report.country,
        "postcode": report.postcode,
        "department": report.department,
        "commune": report.commune,
        "lat": report.lat,
        "lon": report.lon,
    }


def _iso(day: date | None) -> str | None:
    """A calendar date as the API writes it (`2026-11-14`), not as JSON's default would."""
    return day.isoformat() if day is not None else None


def _stay(crypto: Crypto, report: Report) -> dict[str, Any] | None:
    if report.context != "stay":
        return None
    return {
        "listing_reference": crypto.decrypt(report.listing_reference_enc),
        "booking_reference": crypto.decrypt(report.booking_reference_enc),
        "check_in": _iso(report.check_in),
        "check_out": _iso(report.check_out),
        "guest_count": report.guest_count,
    }


def _flight(crypto: Crypto, report: Report) -> dict[str, Any] | None:
    if report.context != "flight":
        return None
    return {
        "flight_number": crypto.decrypt(report.flight_number_enc),
        "flight_date": _iso(report.flight_date),
        "origin": report.origin,
        "destination": report.destination,
    }


def _persons(report: Report) -> dict[str, Any]:
    return {
        "count": report.persons_count,
        "minors": report.minors,
        "minors_involved": report.minors_involved,
        "in_immediate_danger": report.in_immediate_danger,
    }


def _reporter(crypto: Crypto, report: Report) -> dict[str, Any]:
    return {
        "role": report.reporter_role,
        "contact_consent": report.contact_consent,
        "contact": _decrypt_json(crypto, report.contact_enc),
    }


def detail(*, session: Session, crypto: Crypto, report_id: str, who: Who) -> dict[str, Any]:
    """The whole report for an operator, decrypted; the read itself is audited.

    The one response built field by field: much of it is decrypted or computed. Everything
    in it is loaded here, since the view dumps it after the session is closed.
    """
    report = get_or_404(session, Report, report_id, what="report")
    body = {
        "id": report.public_id,
        "partner": session.get(Partner, report.partner_id),
        "partner_reference": report.partner_reference,
        "context": report.context,
        "status": report.status,
        "partner_status": report.coarse_status,
        "priority": report.priority,
        "observed_at": report.observed_at,
        "received_at": report.received_at,
        "updated_at": report.updated_at,
        "due_at": report.due_at,
        "overdue": is_overdue(report.status, report.due_at, clock.now()),
        "escalated_at": report.overdue_notified_at,
        "first_reviewed_at": report.first_reviewed_at,
        "closed_at": report.closed_at,
        "closure_reason": report.closure_reason,
        "duplicate_of": _public_id(session, report.duplicate_of_id),
        "purged_at": report.purged_at,
        "location": _location(report),
        "stay": _stay(crypto, report),
        "flight": _flight(crypto, report),
        "indicators": report.indicators,
        "suspected_exploitation": report.suspected_exploitation,
        "persons": _persons(report),
        "description": crypto.decrypt(report.description_enc),
        "reporter": _reporter(crypto, report),
        "language": report.language,
        "channel": report.channel,
        "claim": claim_of(session, report),
        "related": related_reports(session=session, report=report),
        "notes": _notes(session, crypto, report),
        "referrals": load_referrals(session, crypto, Referral.report_id == report.id),
        "history": _history(session, crypto, report),
    }
    audit.record(session=session, who=who, action="report.read", report_id=report.public_id)
    return body


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """Overdue = not yet reviewed (still `received`) and past its response time."""
    return status == "received" and due_at < now


# -- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None
    priority: str | None = None
    department: str | None = None
    partner: str | None = None
    exploitation: str | None = None
    overdue: bool | None = None


Claimer = aliased(Operator)


class Ref(NamedTuple):
    """Someone named in a row read as columns: what `PersonRefSchema` dumps of an ORM object."""

    public_id: str
    name: str


def _queue_query(filters: QueueFilters, now: datetime, partner_pk: int | None) -> Any:
    query = (
        select(
            Report.id,
            Report.public_id,
            Report.priority,
            Report.due_at,
            Report.received_at,
            Report.status,
            Report.context,
            Report.department,
            Report.indicator_count,
            Report.suspected_exploitation,
            Report.minors_involved,
            Report.in_immediate_danger,
            Report.listing_index,
            Report.flight_index,
            Report.overdue_notified_at,
            Report.claim_expires_at,
            Partner.public_id.label("partner_public_id"),
            Partner.name.label("partner_name"),
            Claimer.public_id.label("claimer_id"),
            Claimer.name.label("claimer_name"),
        )
        .join(Partner, Partner.id == Report.partner_id)
        .outerjoin(Claimer, Claimer.id == Report.claimed_by_id)
        .where(open_only())
    )
    if filters.status is not None:
        query = query.where(Report.status == filters.status)
    if filters.priority is not None:
        query = query.where(Report.priority == filters.priority)
    if filters.department is not None:
        query = query.where(Report.department == filters.department)
    if filters.partner is not None:
        query = query.where(Report.partner_id == (partner_pk if partner_pk is not None else -1))
    if filters.exploitation is not None:
        # JSON arrays of codes are stored as text on both engines: match the quoted code.
        needle = f'%"{filters.exploitation}"%'
        query = query.where(cast(Report.suspected_exploitation, String).like(needle))
    if filters.overdue is True:
        query = query.where(Report.status == "received", Report.due_at < now)
    elif filters.overdue is False:
        query = query.where(not_(and_(Report.status == "received", Report.due_at < now)))
    return query


# The queue order: priority, then due time (most overdue first), then age.
QUEUE_ORDER = Keyset(
    Key("p", Report.priority, str),
    Key("d", Report.due_at, datetime),
    Key("r", Report.received_at, datetime),
    Key("i", Report.id),
)


def _queue_key(row: Any) -> tuple[str, datetime, datetime, int]:
    return row.priority, row.due_at, row.received_at, row.id


def _queue_items(session: Session, rows: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Queue rows as operators see them, with the count of related reports of each."""
    listings = _related_counts(
        session, Report.listing_index, {r.listing_index for r in rows if r.listing_index}
    )
    flights = _related_counts(
        session, Report.flight_index, {r.flight_index for r in rows if r.flight_index}
    )
    items = []
    for r in rows:
        related = (listings.get(r.listing_index, 1) if r.listing_index else 1) - 1
        related += (flights.get(r.flight_index, 1) if r.flight_index else 1) - 1
        live = r.claimer_id is not None and r.claim_expires_at and r.claim_expires_at > now
        items.append(
            {
                "id": r.public_id,
                "priority": r.priority,
                "due_at": r.due_at,
                "overdue": is_overdue(r.status, r.due_at, now),
                "escalated": r.overdue_notified_at is not None,
                "status": r.status,
                "context": r.context,
                "department": r.department,
                "indicator_count": r.indicator_count,
                "suspected_exploitation": r.suspected_exploitation,
                "minors_involved": r.minors_involved,
                "in_immediate_danger": r.in_immediate_danger,
                "partner": Ref(r.partner_public_id, r.partner_name),
                "claim": (
                    {"holder": Ref(r.claimer_id, r.claimer_name), "expires_at": r.claim_expires_at}
                    if live
                    else None
                ),
                "related_count": related,
                "received_at": r.received_at,
            }
        )
    return items


def queue(
    *, session: Session, filters: QueueFilters, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """Open reports in the queue order; each row is computed (flags, claim, related count)."""
    now = clock.now()
    partner_pk = None
    if filters.partner is not None:
        partner_pk = session.scalar(select(Partner.id).where(Partner.public_id == filters.partner))
    query = _queue_query(filters, now, partner_pk)
    page = QUEUE_ORDER.page(
        session, query, limit=limit, cursor=cursor, scalars=False, key_of=_queue_key
    )
    return Page(_queue_items(session, page.items, now), page.next_cursor)


def queue_counts(*, session: Session) -> dict[str, Any]:
    """Open reports per status and per priority, and overdue ones per priority.

    Only open reports are counted (the queue): a covering partial index answers it
    without reading closed history, however long that grows.
    """
    now = clock.now()
    by_status = dict.fromkeys(OPEN_STATUSES, 0)
    by_priority = dict.fromkeys(PRIORITIES, 0)
    overdue = dict.fromkeys(PRIORITIES, 0)
    rows = session.execute(
        select(Report.status, Report.priority, func.count())
        .where(open_only())
        .group_by(Report.status, Report.priority)
    ).all()
    for status, priority, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        by_priority[priority] = by_priority.get(priority, 0) + count
    for priority, count in session.execute(
        select(Report.priority, func.count())
        .where(open_only(), Report.status == "received", Report.due_at < now)
        .group_by(Report.priority)
    ).all():
        overdue[priority] = count
    return {
        "open": sum(by_status.values()),
        "by_status": by_status,
        "by_priority": by_priority,
        "overdue_by_priority": overdue,
    }

"""Receiving reports and reading them back as their partner."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigie import clock
from vigie.crypto import Crypto
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid, Problem, body_for, flatten_messages
from vigie.ids import new_id
from vigie.outbox import service as outbox
from vigie.pagination import Key, Keyset, Page
from vigie.reports.models import COARSE_STATUS, Report
from vigie.reports.priority import RESPONSE_TIMES, compute_priority, minors_involved
from vigie.reports.schemas import ReportSchema

# A partner's list: by last update, then id (cursor letters "u", "i").
BY_UPDATE = Keyset(Key("u", Report.updated_at, datetime), Key("i", Report.id))


def _duplicate(existing_public_id: str, partner_reference: str) -> Conflict:
    return Conflict(
        f"A report with partner_reference {partner_reference!r} already exists.",
        existing_report_id=existing_public_id,
    )


def create(
    *,
    session: Session,
    crypto: Crypto,
    partner_id: int,
    data: dict[str, Any],
    channel: str = "api",
) -> Report:
    """Store a validated canonical report and its `report.received` event, in one transaction.

    `channel` records the tool it came through (`CHANNELS`). The caller commits. A second
    report with the same partner_reference is a 409 naming the existing report.
    """
    persons = data["persons"]
    now = clock.now()
    priority = compute_priority(
        indicators=data["indicators"],
        exploitation=data["suspected_exploitation"],
        minors=persons.get("minors"),
        in_immediate_danger=persons["in_immediate_danger"],
    )
    location = data.get("location") or {}
    stay = data.get("stay") or {}
    flight = data.get("flight") or {}
    reporter = data["reporter"]
    contact = reporter.get("contact") if reporter.get("contact_consent") else None
    report = Report(
        public_id=new_id("rep"),
        partner_id=partner_id,
        partner_reference=data["partner_reference"],
        context=data["context"],
        status="received",
        priority=priority,
        observed_at=data["observed_at"],
        received_at=now,
        updated_at=now,
        due_at=now + RESPONSE_TIMES[priority],
        country=location.get("country"),
        postcode=location.get("postcode"),
        department=location.get("department"),
        commune=location.get("commune"),
        lat=location.get("lat"),
        lon=location.get("lon"),
        listing_reference_enc=crypto.encrypt(stay.get("listing_reference")),
        listing_index=(crypto.blind_index("listing", stay["listing_reference"]) if stay else None),
        booking_reference_enc=crypto.encrypt(stay.get("booking_reference")),
        check_in=stay.get("check_in"),
        check_out=stay.get("check_out"),
        guest_count=stay.get("guest_count"),
        flight_number_enc=crypto.encrypt(flight.get("flight_number")),
        flight_index=(
            crypto.blind_index("flight", flight["flight_number"], flight["flight_date"].isoformat())
            if flight
            else None
        ),
        flight_date=flight.get("flight_date"),
        origin=flight.get("origin"),
        destination=flight.get("destination"),
        indicators=list(data["indicators"]),
        suspected_exploitation=list(data["suspected_exploitation"]),
        indicator_count=len(data["indicators"]),
        persons_count=persons["count"],
        minors=persons.get("minors"),
        minors_involved=minors_involved(
            indicators=data["indicators"], minors=persons.get("minors")
        ),
        in_immediate_danger=persons["in_immediate_danger"],
        description_enc=crypto.encrypt(data["description"]) if data["description"] else None,
        reporter_role=reporter["role"],
        contact_consent=bool(reporter.get("contact_consent")),
        contact_enc=crypto.encrypt(json.dumps(contact, ensure_ascii=False)) if contact else None,
        language=data["language"],
        channel=channel,
    )
    try:
        # The unique (partner_id, partner_reference) constraint is the duplicate check:
        # one statement fewer per report, and a concurrent twin loses here, not with a 500.
        # The report and its event are flushed together (one flush per report).
        with session.begin_nested():
            session.add(report)
            outbox.emit(
                session=session,
                event_type="report.received",
                partner_id=partner_id,
                data={
                    "report_id": report.public_id,
                    "partner_reference": report.partner_reference,
                    "status": report.coarse_status,
                    "priority": report.priority,
                },
            )
            session.flush()
    except IntegrityError:
        twin = session.scalar(
            select(Report.public_id).where(
                Report.partner_id == partner_id,
                Report.partner_reference == data["partner_reference"],
            )
        )
        if twin is None:
            raise
        raise _duplicate(twin, data["partner_reference"]) from None
    return report


def get_for_partner(*, session: Session, partner_id: int, report_id: str) -> Report:
    """Another partner's report is indistinguishable from a missing one."""
    return get_or_404(
        session, Report, report_id, what="report", where=(Report.partner_id == partner_id,)
    )


def list_for_partner(
    *,
    session: Session,
    partner_id: int,
    status: str | None,
    updated_since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[Report]:
    """The partner's reports by last update (oldest first, so a sync can resume)."""
    query = select(Report).where(Report.partner_id == partner_id)
    if status is not None:
        internal = [k for k, v in COARSE_STATUS.items() if v == status]
        query = query.where(Report.status.in_(internal))
    if updated_since is not None:
        query = query.where(Report.updated_at >= updated_since)
    return BY_UPDATE.page(session, query, limit=limit, cursor=cursor)


_REPORT_SCHEMA = ReportSchema()


def create_batch(
    *, session: Session, crypto: Crypto, partner_id: int, items: list[Any]
) -> list[dict[str, Any]]:
    """Store each valid item of a batch as its own report; one result per item, in order.

    Each item follows the rules of a single report: an invalid item (422) or a
    duplicate partner_reference (409) gets a problem document and does not stop
    the others. The caller commits once for the whole batch.
    """
    schema = _REPORT_SCHEMA
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise Invalid("Each report must be a JSON object.", field="(body)")
            try:
                data = schema.load(item)
            except ValidationError as exc:
                raise Invalid(
                    "The report has invalid fields.", errors=flatten_messages(exc.messages)
                ) from None
            report = create(
                session=session, crypto=crypto, partner_id=partner_id, data=data, channel="batch"
            )
        except Problem as problem:
            results.append({"index": index, "status": problem.status, "problem": body_for(problem)})
            continue
        results.append(
            {"index": index, "status": 201, "id": report.public_id, "priority": report.priority}
        )
    return results

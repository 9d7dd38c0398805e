"""The form's partner, and storing a host's report through the very service behind the API."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.crypto import Crypto
from vigie.errors import Conflict, Invalid, NotFound, flatten_messages
from vigie.partners.models import Partner
from vigie.reports import service as reports
from vigie.reports.models import Report
from vigie.reports.schemas import ReportSchema

CHANNEL = "form"
_SCHEMA = ReportSchema()


def form_partner(*, session: Session, slug: str) -> Partner:
    """The partner whose form lives at /embed/<slug>/report; a revoked one has no form."""
    partner = session.scalar(
        select(Partner).where(Partner.slug == slug, Partner.revoked_at.is_(None))
    )
    if partner is None:
        raise NotFound("There is no report form at this address.")
    return partner


def check(data: dict[str, Any]) -> dict[str, Any]:
    """The canonical report checked by `ReportSchema`, or Invalid naming each field at fault."""
    try:
        loaded: dict[str, Any] = _SCHEMA.load(data)
    except ValidationError as exc:
        raise Invalid(
            "The report has invalid fields.", errors=flatten_messages(exc.messages)
        ) from None
    return loaded


def submit(
    *, session: Session, crypto: Crypto, partner_id: int, data: dict[str, Any]
) -> tuple[Report, bool]:
    """Store a checked report for the partner (channel `form`); the caller commits.

    Returns the report and whether it is new: the same page sent twice carries the same
    partner_reference, and the second time answers the report stored the first time.
    """
    try:
        report = reports.create(
            session=session, crypto=crypto, partner_id=partner_id, data=data, channel=CHANNEL
        )
    except Conflict as conflict:
        existing = str(conflict.extensions["existing_report_id"])
        return reports.get_for_partner(
            session=session, partner_id=partner_id, report_id=existing
        ), False
    return report, True

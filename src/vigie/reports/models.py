from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime
from vigie.reports.guidance import emergency_guidance

# What a partner may see of the internal status: nothing about the investigation.
COARSE_STATUS = {
    "received": "received",
    "in_review": "in_review",
    "referred": "actioned",
    "closed": "closed",
}
INTERNAL_STATUSES = tuple(COARSE_STATUS)
COARSE_STATUSES = ("received", "in_review", "actioned", "closed")
# Through which tool a report came: the API, its batch operation, a partner's native format
# through an inbound adapter (`adapter:<name>`), or a partner's embeddable form for hosts.
CHANNELS = ("api", "batch", "adapter", "form")

# The triage queue is the open reports. Its indexes are partial on this literal
# predicate (queries repeat it literally, so SQLite's planner can use them) and
# end with the queue order: priority, due time, age, id.
OPEN_PREDICATE = "status <> 'closed'"
QUEUE_ORDER = ("priority", "due_at", "received_at", "id")


def _queue_index(name: str, *prefix: str) -> Index:
    return Index(
        name,
        *prefix,
        *QUEUE_ORDER,
        sqlite_where=text(OPEN_PREDICATE),
        postgresql_where=text(OPEN_PREDICATE),
    )


class Report(Base):
    """A report as stored. Columns ending in `_enc` hold Fernet tokens, never plaintext."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("partner_id", "partner_reference"),
        Index("ix_reports_partner_updated", "partner_id", "updated_at", "id"),
        _queue_index("ix_reports_queue"),
        _queue_index("ix_reports_queue_status", "status"),
        _queue_index("ix_reports_queue_department", "department"),
        _queue_index("ix_reports_queue_partner", "partner_id"),
        Index(
            "ix_reports_claim_expiry",
            "claim_expires_at",
            sqlite_where=text("claim_expires_at IS NOT NULL"),
            postgresql_where=text("claim_expires_at IS NOT NULL"),
        ),
        Index("ix_reports_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    partner_reference: Mapped[str] = mapped_column(String(128))

    context: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="received")
    priority: Mapped[str] = mapped_column(String(2))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Where: coarse location in clear (statistics), nothing that points at a door.
    country: Mapped[str | None] = mapped_column(String(2))
    postcode: Mapped[str | None] = mapped_column(String(10))
    department: Mapped[str | None] = mapped_column(String(3))
    commune: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    # Stay: references encrypted; the listing is matched through its blind index.
    listing_reference_enc: Mapped[str | None] = mapped_column(Text)
    listing_index: Mapped[str | None] = mapped_column(String(64), index=True)
    booking_reference_enc: Mapped[str | None] = mapped_column(Text)
    check_in: Mapped[date | None] = mapped_column(Date)
    check_out: Mapped[date | None] = mapped_column(Date)
    guest_count: Mapped[int | None] = mapped_column(Integer)

    # Flight: the flight number is a reference too; flight_index = number + date.
    flight_number_enc: Mapped[str | None] = mapped_column(Text)
    flight_index: Mapped[str | None] = mapped_column(String(64), index=True)
    flight_date: Mapped[date | None] = mapped_column(Date)
    origin: Mapped[str | None] = mapped_column(String(3))
    destination: Mapped[str | None] = mapped_column(String(3))

    indicators: Mapped[list[str]] = mapped_column(JSON)
    suspected_exploitation: Mapped[list[str]] = mapped_column(JSON)
    indicator_count: Mapped[int] = mapped_column(Integer)

    persons_count: Mapped[int] = mapped_column(Integer)
    minors: Mapped[int | None] = mapped_column(Integer)
    minors_involved: Mapped[bool] = mapped_column(Boolean)
    in_immediate_danger: Mapped[bool] = mapped_column(Boolean)

    description_enc: Mapped[str | None] = mapped_column(Text)
    reporter_role: Mapped[str] = mapped_column(String(20))
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_enc: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35))
    # The tool it came through: api, batch, adapter:<name>, form (see CHANNELS)
    channel: Mapped[str] = mapped_column(String(40), default="api")

    # Triage (operators only; never shown to partners).
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def coarse_status(self) -> str:
        return COARSE_STATUS[self.status]

    @property
    def links(self) -> dict[str, str]:
        return {"self": f"/v1/reports/{self.public_id}"}

    @property
    def guidance(self) -> dict[str, Any] | None:
        """Emergency numbers for the reporter when people are at risk (None otherwise)."""
        return emergency_guidance(
            in_immediate_danger=self.in_immediate_danger,
            minors_involved=self.minors_involved,
            language=self.language,
        )

"""Shelters and other orientation targets, and the referrals made to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime

TARGET_TYPES = (
    "emergency_shelter",
    "protected_shelter",
    "child_protection",
    "association",
    "law_enforcement",
    "health",
)
SHELTER_TYPES = TARGET_TYPES
ACCEPTS = ("women", "men", "families", "minors")
OUTCOMES = ("accepted", "declined", "no_capacity", "completed")
REFERRAL_STATUSES = ("pending", *OUTCOMES)
# Which outcome may follow which: a referral ends once it is declined, refused or completed.
OUTCOME_MOVES = {
    "pending": ("accepted", "declined", "no_capacity"),
    "accepted": ("completed",),
    "declined": (),
    "no_capacity": (),
    "completed": (),
}


class Shelter(Base):
    __tablename__ = "shelters"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30), index=True)
    departments: Mapped[list[str]] = mapped_column(JSON)
    accepts: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    capacity_total: Mapped[int] = mapped_column(Integer)
    capacity_available: Mapped[int] = mapped_column(Integer)
    capacity_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    integration: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Referral(Base):
    """An orientation of the people in a report; the note is encrypted, erased by retention."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    target_type: Mapped[str] = mapped_column(String(30))
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelters.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    note_enc: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

"""Operator work on a report: its status rules, notes and the history of status moves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime

OPEN_STATUSES = ("received", "in_review", "referred")
CLOSURE_REASONS = (
    "duplicate",
    "no_grounds",
    "insufficient_information",
    "handled_by_law_enforcement",
    "victims_protected",
    "other",
)
# The status rules of the vocabulary. `referred` is reached by recording a referral.
MOVES: dict[str, tuple[str, ...]] = {
    "received": ("in_review", "closed"),
    "in_review": ("referred", "closed"),
    "referred": ("closed",),
    "closed": ("in_review",),  # reopening: supervisors only
}


class Note(Base):
    """An operator's note; the body is a Fernet token (NULL once erased by retention)."""

    __tablename__ = "report_notes"
    __table_args__ = (Index("ix_report_notes_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    body_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Transition(Base):
    """One status move, with the operator's comment (encrypted, erased by retention)."""

    __tablename__ = "report_transitions"
    __table_args__ = (Index("ix_report_transitions_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    comment_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

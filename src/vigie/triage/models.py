"""Operator work on a report: its status rules, notes, the history of status moves and referrals.

Some classes carry one attribute that is not a column (`Note.body`, `Transition.comment`,
`Referral.note`): the text of an `_enc` column in clear, set by the service that decrypts it
for the read being answered, so the response schema can dump the object itself. It is never
stored and stays None until a service sets it.

Relationships are there for the responses too, and never load on access
(`raise_on_sql`): a service loads them with its query (`joinedload`) or sets them, since
some responses are dumped after their session has closed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigie.db import Base, UTCDateTime
from vigie.operators.models import Operator
from vigie.reports.models import Report
from vigie.shelters.models import SHELTER_TYPES, Shelter, ShelterNetwork

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

TARGET_TYPES = SHELTER_TYPES  # a referral goes to a kind of shelter or service
OUTCOMES = ("accepted", "declined", "no_capacity", "completed")
REFERRAL_STATUSES = ("pending", *OUTCOMES)
# Which outcome may follow which: a referral ends once it is declined, refused or completed.
OUTCOME_MOVES: dict[str, tuple[str, ...]] = {
    "pending": ("accepted", "declined", "no_capacity"),
    "accepted": ("completed",),
    "declined": (),
    "no_capacity": (),
    "completed": (),
}
# Outcomes that end a referral without a place; they may give a reason.
REFUSALS = ("declined", "no_capacity")
REFUSAL_REASONS = ("no_capacity", "not_eligible", "person_declined", "person_unreachable", "other")
# How a shelter network names outcomes: `refused` is declined, or no_capacity for that reason.
NETWORK_OUTCOMES = ("accepted", "refused", "completed")
NETWORK_TERMS = {
    "accepted": "accepted",
    "declined": "refused",
    "no_capacity": "refused",
    "completed": "completed",
}


class Note(Base):
    """An operator's note; the body is a Fernet token (NULL once erased by retention)."""

    __tablename__ = "report_notes"
    __table_args__ = (Index("ix_report_notes_report", "report_id", "id"),)
    __allow_unmapped__ = True  # `body` below is not a column (see the module docstring)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    body_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[Operator] = relationship(lazy="raise_on_sql")

    body: str | None = None  # body_enc in clear, for this read only


class Transition(Base):
    """One status move, with the operator's comment (encrypted, erased by retention)."""

    __tablename__ = "report_transitions"
    __table_args__ = (Index("ix_report_transitions_report", "report_id", "id"),)
    __allow_unmapped__ = True  # `comment` below is not a column (see the module docstring)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    comment_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    operator: Mapped[Operator | None] = relationship(lazy="raise_on_sql")

    comment: str | None = None  # comment_enc in clear, for this read only


class Referral(Base):
    """An orientation of the people in a report; the note is encrypted, erased by retention."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_report", "report_id", "id"),)
    __allow_unmapped__ = True  # `note` below is not a column (see the module docstring)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    target_type: Mapped[str] = mapped_column(String(30))
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelters.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    note_enc: Mapped[str | None] = mapped_column(Text)
    # Languages the people speak, as the operator recorded them (BCP 47), for the shelter.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The shelter network it was forwarded to (NULL: not forwarded).
    shelter_network_id: Mapped[int | None] = mapped_column(
        ForeignKey("shelter_networks.id"), index=True
    )
    outcome_reason: Mapped[str | None] = mapped_column(String(40))  # of a refusal
    created_by_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[Report] = relationship(lazy="raise_on_sql")
    shelter: Mapped[Shelter | None] = relationship(lazy="raise_on_sql")
    shelter_network: Mapped[ShelterNetwork | None] = relationship(lazy="raise_on_sql")
    created_by: Mapped[Operator] = relationship(lazy="raise_on_sql")

    note: str | None = None  # note_enc in clear, for this read only

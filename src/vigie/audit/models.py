"""The audit log: append-only, each entry chained to the previous one by its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime


class AuditEntry(Base):
    """Who did what, when, from which request. Never free text or personal data.

    `seq` runs 1, 2, 3, ... without gaps; `hash` = SHA-256 over the previous hash and
    this entry's canonical JSON, so changing or deleting an entry breaks the chain.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_report", "report_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime


class IdempotencyKey(Base):
    """One Idempotency-Key a partner sent, and the response it got.

    While the first request runs, `response_status` is NULL and `locked_until` is
    the lease: a process that dies loses it and a retry may take the key over.
    `fingerprint` is the SHA-256 of method, path and canonical JSON body.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("partner_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime


class OutboxEvent(Base):
    """One thing that happened and that the outside world must hear about.

    `public_id` is the Standard Webhooks `webhook-id`: stable across retries.
    `partner_id` scopes partner events (a partner only receives its own);
    NULL means an event for everyone subscribed (content) or for MIPROF.
    `shelter_network_id` routes an event to that shelter network's intake and nowhere else
    (a referral forwarded to it).
    """

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    shelter_network_id: Mapped[int | None] = mapped_column(ForeignKey("shelter_networks.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

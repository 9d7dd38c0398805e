"""Endpoints, deliveries and attempts: three tables (events are the outbox's rows).

An outbox event becomes one delivery per subscribed endpoint; each try of a delivery
is an attempt. `webhook_dispatches` marks events already fanned out, so no event is
skipped even when transactions commit out of id order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigie import clock
from vigie.db import Base, UTCDateTime
from vigie.outbox.models import OutboxEvent

DELIVERY_STATUSES = ("pending", "delivered", "failed")
# What a partner may subscribe to. Report events reach only the report's partner;
# content events reach every partner subscribed to them.
PARTNER_EVENT_TYPES = (
    "report.received",
    "report.status_changed",
    "content.published",
    "content.retired",
    "webhook.test",
    "webhook.endpoint_disabled",
)


class WebhookEndpoint(Base):
    """A URL that receives signed events. Its owner: a partner (`partner_id`), a shelter
    network (`shelter_network_id`: the network's intake, which receives only the referrals
    routed to it), or MIPROF when both are NULL (CLI only).

    `forwarder` names the integration (`vigie.integrations`) that shapes what is sent and
    reads the answer; NULL: the standard webhook body and rules.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    shelter_network_id: Mapped[int | None] = mapped_column(
        ForeignKey("shelter_networks.id", ondelete="CASCADE"), index=True
    )
    forwarder: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    secret_enc: Mapped[str] = mapped_column(String(500))
    previous_secret_enc: Mapped[str | None] = mapped_column(String(500))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(40))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def secret_rotation_ends_at(self) -> datetime | None:
        """Until when the previous secret still signs; None when no rotation is under way."""
        ends = self.previous_secret_expires_at
        return ends if ends is not None and ends > clock.now() else None

    @property
    def links(self) -> dict[str, str]:
        path = f"/v1/webhooks/endpoints/{self.public_id}"
        return {"self": path, "deliveries": f"{path}/deliveries"}


class WebhookDispatch(Base):
    """An outbox event already fanned out into deliveries."""

    __tablename__ = "webhook_dispatches"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True
    )
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDelivery(Base):
    """One event to one endpoint, claimed by a worker under a lease (locked_until, locked_by)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer, default=0)  # attempts since (re)queued
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Read-only views for the partner's listing; the worker writes with Core statements.
    event: Mapped[OutboxEvent] = relationship(lazy="joined", innerjoin=True, viewonly=True)
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", lazy="raise", viewonly=True
    )  # loaded explicitly (`attempts` is the count)

    @property
    def upcoming_attempt_at(self) -> datetime | None:
        """When the next attempt is due; None once the delivery is delivered or failed."""
        return self.next_attempt_at if self.status == "pending" else None


class WebhookAttempt(Base):
    """One HTTP try: status, duration, error class, at most 1 KiB of the response body."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(64))
    response_body: Mapped[str | None] = mapped_column(String(1024))
    worker: Mapped[str] = mapped_column(String(64))

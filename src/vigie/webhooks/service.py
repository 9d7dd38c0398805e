"""Webhook endpoints and their deliveries as partners (and MIPROF, from the CLI) see them.

Partners register, change, rotate, test and delete their endpoints, and read or re-queue
their deliveries. The machinery that turns events into deliveries and records attempts
is `vigie.webhooks.dispatch`; the worker's loop is `vigie.webhooks.delivery`.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vigie import clock
from vigie.config import Config
from vigie.crypto import Crypto
from vigie.errors import Conflict, Invalid, NotFound
from vigie.ids import new_id
from vigie.outbox import service as outbox
from vigie.outbox.models import OutboxEvent
from vigie.pagination import decode_cursor, encode_cursor, malformed_cursor
from vigie.webhooks import outbound
from vigie.webhooks.models import (
    PARTNER_EVENT_TYPES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")


# -- settings -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The webhook settings of the configuration, checked once."""

    schedule: tuple[float, ...]
    jitter: float
    lease_seconds: float
    secret_overlap_hours: float
    disable_after_hours: float
    retry_after_max_seconds: float
    policy: outbound.Policy

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(
            schedule=_schedule(config.webhook_retry_schedule),
            jitter=config.webhook_retry_jitter,
            lease_seconds=config.webhook_lease_seconds,
            secret_overlap_hours=config.webhook_secret_overlap_hours,
            disable_after_hours=config.webhook_disable_after_hours,
            retry_after_max_seconds=config.webhook_retry_after_max_seconds,
            policy=policy(config),
        )


def _schedule(schedule: tuple[float, ...]) -> tuple[float, ...]:
    if not schedule:
        raise ValueError("webhook_retry_schedule must not be empty")
    return schedule


def policy(config: Config) -> outbound.Policy:
    ports = config.webhook_allowed_ports
    return outbound.Policy(
        https_only=config.is_production,
        allow_private=config.webhook_allow_private,
        allowed_ports=tuple(int(p) for p in ports),
    )


# -- endpoints ------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_url(url: str, settings: Settings) -> None:
    try:
        outbound.check_url(url, settings.policy, resolver=outbound.resolve)
    except outbound.UnsafeURL as refused:
        raise Invalid(str(refused), field="url") from None


def _check_events(events: Sequence[str], *, partner: bool) -> list[str]:
    chosen = list(dict.fromkeys(events))
    if not chosen:
        raise Invalid("Subscribe to at least one event type.", field="events")
    if partner:
        unknown = [e for e in chosen if e not in PARTNER_EVENT_TYPES]
    else:
        unknown = [e for e in chosen if not EVENT_TYPE.match(e)]
    if unknown:
        raise Invalid(
            f"Unknown event type(s): {', '.join(unknown)}. "
            f"Known: {', '.join(PARTNER_EVENT_TYPES)}.",
            field="events",
        )
    return chosen


def create_endpoint(
    *,
    session: Session,
    crypto: Crypto,
    settings: Settings,
    partner_id: int | None,
    url: str,
    events: Sequence[str],
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once, stored encrypted).

    `partner_id` None makes a MIPROF endpoint (CLI only), which may subscribe to any event type.
    """
    chosen = _check_events(events, partner=partner_id is not None)
    _check_url(url, settings)
    secret = new_secret()
    now = clock.now()
    endpoint = WebhookEndpoint(
        public_id=new_id("whe"),
        partner_id=partner_id,
        url=url,
        description=description,
        events=chosen,
        secret_enc=crypto.encrypt(secret),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def _owned(partner_id: int | None) -> Any:
    if partner_id is None:
        return WebhookEndpoint.partner_id.is_(None)
    return WebhookEndpoint.partner_id == partner_id


def get_endpoint(*, session: Session, partner_id: int | None, endpoint_id: str) -> WebhookEndpoint:
    """Another partner's endpoint is indistinguishable from a missing one."""
    endpoint = session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.public_id == endpoint_id,
            _owned(partner_id),
            WebhookEndpoint.deleted_at.is_(None),
        )
    )
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def list_endpoints(
    *, session: Session, partner_id: int | None, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    query = select(WebhookEndpoint).where(_owned(partner_id), WebhookEndpoint.deleted_at.is_(None))
    position = decode_cursor(cursor, ("i",))
    if position is not None:
        if not isinstance(position["i"], int):
            raise malformed_cursor()
        query = query.where(WebhookEndpoint.id > position["i"])
    rows = list(session.scalars(query.order_by(WebhookEndpoint.id).limit(limit + 1)))
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor({"i": rows[-1].id})
    return rows, None


def update_endpoint(
    *,
    session: Session,
    settings: Settings,
    partner_id: int | None,
    endpoint_id: str,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    """Change url, events, description or enabled; re-enabling clears the failure history."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    if "url" in changes:
        _check_url(changes["url"], settings)
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = _check_events(changes["events"], partner=partner_id is not None)
    if "description" in changes:
        endpoint.description = changes["description"]
    if "enabled" in changes:
        if changes["enabled"] and not endpoint.enabled:
            endpoint.disabled_reason = None
            endpoint.disabled_at = None
            endpoint.failing_since = None
        elif not changes["enabled"] and endpoint.enabled:
            endpoint.disabled_reason = "by_owner"
            endpoint.disabled_at = clock.now()
        endpoint.enabled = bool(changes["enabled"])
    endpoint.updated_at = clock.now()
    return endpoint


def delete_endpoint(*, session: Session, partner_id: int | None, endpoint_id: str) -> None:
    """Soft delete: the endpoint disappears, its secrets are wiped, nothing more is sent."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    now = clock.now()
    endpoint.deleted_at = now
    endpoint.enabled = False
    endpoint.disabled_reason = "deleted"
    endpoint.disabled_at = now
    endpoint.secret_enc = ""
    endpoint.previous_secret_enc = None
    endpoint.previous_secret_expires_at = None
    endpoint.updated_at = now
    # Nothing more will be sent there: what was waiting is failed, and says why.
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(
            status="failed", last_error="endpoint_deleted", next_attempt_at=None, updated_at=now
        )
    )


def rotate_secret(
    *,
    session: Session,
    crypto: Crypto,
    settings: Settings,
    partner_id: int | None,
    endpoint_id: str,
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once); the old one keeps signing until the overlap ends."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    secret = new_secret()
    now = clock.now()
    endpoint.previous_secret_enc = endpoint.secret_enc
    endpoint.previous_secret_expires_at = now + timedelta(hours=settings.secret_overlap_hours)
    endpoint.secret_enc = crypto.encrypt(secret) or ""
    endpoint.updated_at = now
    return endpoint, secret


def send_test(*, session: Session, partner_id: int | None, endpoint_id: str) -> OutboxEvent:
    """Queue a `webhook.test` event for this endpoint only."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    return outbox.emit(
        session=session,
        event_type="webhook.test",
        partner_id=partner_id,
        data={"endpoint_id": endpoint.public_id, "message": "Test event from Vigie."},
    )


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at,
        "secret_rotation_ends_at": (
            endpoint.previous_secret_expires_at
            if endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > clock.now()
            else None
        ),
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "links": {
            "self": f"/v1/webhooks/endpoints/{endpoint.public_id}",
            "deliveries": f"/v1/webhooks/endpoints/{endpoint.public_id}/deliveries",
        },
    }


# -- deliveries as the partner sees them ----------------------------------------


def list_deliveries(
    *,
    session: Session,
    partner_id: int | None,
    endpoint_id: str,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, each with its attempts."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    query = (
        select(WebhookDelivery, OutboxEvent.public_id, OutboxEvent.type)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    position = decode_cursor(cursor, ("i",))
    if position is not None:
        if not isinstance(position["i"], int):
            raise malformed_cursor()
        query = query.where(WebhookDelivery.id < position["i"])
    rows = list(session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"i": rows[-1][0].id})
    attempts: dict[int, list[WebhookAttempt]] = {}
    if rows:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([r[0].id for r in rows]))
            .order_by(WebhookAttempt.id)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [
        delivery_view(d, event_id, event_type, attempts.get(d.id, []))
        for d, event_id, event_type in rows
    ], next_cursor


def delivery_view(
    delivery: WebhookDelivery, event_id: str, event_type: str, attempts: Iterable[WebhookAttempt]
) -> dict[str, Any]:
    return {
        "id": delivery.public_id,
        "event_id": event_id,
        "event_type": event_type,
        "status": delivery.status,
        "attempt_count": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
        "delivered_at": delivery.delivered_at,
        "created_at": delivery.created_at,
        "attempts": [
            {
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "error": a.error,
                "response_body": a.response_body,
            }
            for a in attempts
        ],
    }


def retry_delivery(*, session: Session, partner_id: int | None, delivery_id: str) -> dict[str, Any]:
    """Re-queue a failed delivery for a new round of the retry schedule."""
    row = session.execute(
        select(WebhookDelivery, OutboxEvent.public_id, OutboxEvent.type)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.public_id == delivery_id,
            _owned(partner_id),
            WebhookEndpoint.deleted_at.is_(None),
        )
    ).first()
    if row is None:
        raise NotFound(f"No webhook delivery {delivery_id}.")
    delivery, event_id, event_type = row
    if delivery.status != "failed":
        raise Conflict(f"Only a failed delivery can be retried; this one is {delivery.status}.")
    now = clock.now()
    delivery.status = "pending"
    delivery.step = 0
    delivery.next_attempt_at = now
    delivery.locked_until = None
    delivery.locked_by = None
    delivery.updated_at = now
    return delivery_view(delivery, event_id, event_type, [])


def counts(*, session: Session) -> dict[str, int]:
    """Deliveries by status (operations)."""
    return {
        status: n
        for status, n in session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        )
    }

"""Webhook endpoints and their deliveries as partners (and MIPROF, from the CLI) see them.

Partners register, change, rotate, test and delete their endpoints, and read or re-queue
their deliveries. A shelter network's intake is an endpoint too, owned by the network and
managed by MIPROF through `vigie.shelters.networks`. The machinery that turns events into
deliveries and records attempts is `vigie.webhooks.dispatch`; the worker's loop is
`vigie.webhooks.delivery`.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session, contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from vigie import clock
from vigie.config import Config
from vigie.crypto import Crypto
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid
from vigie.ids import new_id
from vigie.outbox import service as outbox
from vigie.outbox.models import OutboxEvent
from vigie.pagination import Key, Keyset, Page
from vigie.partners.models import Partner
from vigie.webhooks import outbound
from vigie.webhooks.models import (
    PARTNER_EVENT_TYPES,
    WebhookDelivery,
    WebhookEndpoint,
)

EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
ENDPOINTS = Keyset(Key("i", WebhookEndpoint.id))
DELIVERIES = Keyset(Key("i", WebhookDelivery.id), descending=True)  # newest first
# The rules that refuse a receiver on the developer's own machine, and how to lift them there.
LOCAL_RULES = ("port", "address")
LOCAL_RECEIVERS_HINT = (
    " In development, a receiver on your own machine (http://127.0.0.1:<port>/…) is allowed "
    "with VIGIE_WEBHOOK_ALLOW_PRIVATE=true (`vigie demo` allows it); never in production."
)


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
    development: bool = False  # a refused local URL says how development allows it
    max_endpoints_per_partner: int = 10

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
            development=not config.is_production,
            max_endpoints_per_partner=config.webhook_max_endpoints_per_partner,
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
        detail = str(refused)
        if settings.development and refused.reason in LOCAL_RULES:
            detail += LOCAL_RECEIVERS_HINT
        raise Invalid(detail, field="url") from None


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


def _check_room(session: Session, partner_id: int, most: int) -> None:
    """A partner keeps at most `most` endpoints (each event is sent to every one of them)."""
    # The partner's row, locked on PostgreSQL, makes two concurrent registrations take turns.
    session.execute(select(Partner.id).where(Partner.id == partner_id).with_for_update())
    held = session.scalar(
        select(func.count(WebhookEndpoint.id)).where(
            WebhookEndpoint.partner_id == partner_id, WebhookEndpoint.deleted_at.is_(None)
        )
    )
    if (held or 0) >= most:
        raise Conflict(
            f"A partner may register at most {most} webhook endpoints; delete one before "
            "registering another (one endpoint may subscribe to several event types).",
            limit=most,
        )


def _target(url: str) -> tuple[str, str, int, str, str]:
    """What a URL calls, spelled one way: `https://Hooks.example:443/x` and
    `https://hooks.example/x` are one target."""
    parts = urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    port = parts.port if parts.port is not None else default
    host = (parts.hostname or "").rstrip(".")
    return parts.scheme.lower(), host, port, parts.path or "/", parts.query


def _check_not_registered(
    session: Session, partner_id: int, url: str, except_id: int | None = None
) -> None:
    """One endpoint per URL for a partner: the same URL twice would be sent every event twice
    (a partner once registered 150 endpoints to one third-party URL); one endpoint may
    subscribe to several event types instead."""
    query = select(WebhookEndpoint.public_id, WebhookEndpoint.url).where(
        *_visible(partner_id), WebhookEndpoint.id != (except_id or 0)
    )
    wanted = _target(url)
    for public_id, registered in session.execute(query):
        if _target(registered) == wanted:
            raise Conflict(
                f"Your endpoint {public_id} already has this URL; subscribe it to more event "
                "types (PATCH its events) rather than registering the URL again.",
                existing_endpoint_id=public_id,
            )


def create_endpoint(
    *,
    session: Session,
    crypto: Crypto,
    settings: Settings,
    partner_id: int | None,
    url: str,
    events: Sequence[str],
    description: str = "",
    shelter_network_id: int | None = None,
    forwarder: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once, stored encrypted).

    `partner_id` None makes a MIPROF endpoint (CLI only), which may subscribe to any event type,
    or with `shelter_network_id` that network's intake; `forwarder` names the integration
    that shapes what it is sent.
    """
    chosen = _check_events(events, partner=partner_id is not None)
    _check_url(url, settings)
    if partner_id is not None:
        _check_room(session, partner_id, settings.max_endpoints_per_partner)
        _check_not_registered(session, partner_id, url)
    secret = new_secret()
    now = clock.now()
    endpoint = WebhookEndpoint(
        public_id=new_id("whe"),
        partner_id=partner_id,
        shelter_network_id=shelter_network_id,
        forwarder=forwarder,
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


def _visible(
    partner_id: int | None, shelter_network_id: int | None = None
) -> tuple[ColumnElement[bool], ...]:
    """The caller's own endpoints, deleted ones excluded: a partner's, a shelter network's
    intake, or MIPROF's own when both are None."""
    owned: ColumnElement[bool]
    if partner_id is not None:
        owned = WebhookEndpoint.partner_id == partner_id
    elif shelter_network_id is not None:
        owned = WebhookEndpoint.shelter_network_id == shelter_network_id
    else:
        owned = and_(
            WebhookEndpoint.partner_id.is_(None), WebhookEndpoint.shelter_network_id.is_(None)
        )
    return owned, WebhookEndpoint.deleted_at.is_(None)


def get_endpoint(
    *,
    session: Session,
    partner_id: int | None,
    endpoint_id: str,
    shelter_network_id: int | None = None,
) -> WebhookEndpoint:
    """Another partner's endpoint is indistinguishable from a missing one."""
    return get_or_404(
        session,
        WebhookEndpoint,
        endpoint_id,
        what="webhook endpoint",
        where=_visible(partner_id, shelter_network_id),
    )


def network_intakes(*, session: Session) -> dict[int, WebhookEndpoint]:
    """Every shelter network's intake endpoint, by network id (revoked networks have none)."""
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.shelter_network_id.is_not(None), WebhookEndpoint.deleted_at.is_(None)
        )
        .order_by(WebhookEndpoint.id)  # the newest last, so it wins as network_intake's does
    )
    return {e.shelter_network_id: e for e in session.scalars(query) if e.shelter_network_id}


def network_intake(*, session: Session, shelter_network_id: int) -> WebhookEndpoint | None:
    """A shelter network's intake endpoint (None once the network is revoked)."""
    return session.scalar(
        select(WebhookEndpoint)
        .where(*_visible(None, shelter_network_id))
        .order_by(WebhookEndpoint.id.desc())
        .limit(1)
    )


def list_endpoints(
    *, session: Session, partner_id: int | None, limit: int, cursor: str | None
) -> Page[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(*_visible(partner_id))
    return ENDPOINTS.page(session, query, limit=limit, cursor=cursor)


def update_endpoint(
    *,
    session: Session,
    settings: Settings,
    partner_id: int | None,
    endpoint_id: str,
    changes: dict[str, Any],
    shelter_network_id: int | None = None,
) -> WebhookEndpoint:
    """Change url, events, description or enabled; re-enabling clears the failure history."""
    endpoint = get_endpoint(
        session=session,
        partner_id=partner_id,
        endpoint_id=endpoint_id,
        shelter_network_id=shelter_network_id,
    )
    if "url" in changes:
        _check_url(changes["url"], settings)
        if partner_id is not None:
            _check_not_registered(session, partner_id, changes["url"], except_id=endpoint.id)
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


def delete_endpoint(
    *,
    session: Session,
    partner_id: int | None,
    endpoint_id: str,
    shelter_network_id: int | None = None,
) -> None:
    """Soft delete: the endpoint disappears, its secrets are wiped, nothing more is sent."""
    endpoint = get_endpoint(
        session=session,
        partner_id=partner_id,
        endpoint_id=endpoint_id,
        shelter_network_id=shelter_network_id,
    )
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
    """Queue a `webhook.test` event for this endpoint only; refused (409) when it would never
    be delivered: the endpoint does not subscribe to `webhook.test`, or is disabled."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    if "webhook.test" not in endpoint.events:
        events = ", ".join(f'"{e}"' for e in [*endpoint.events, "webhook.test"])
        raise Conflict(
            "This endpoint does not subscribe to webhook.test, so a test event would never be "
            f"delivered to it. Subscribe it first: PATCH /v1/webhooks/endpoints/"
            f'{endpoint.public_id} with {{"events": [{events}]}}.'
        )
    if not endpoint.enabled:
        raise Conflict(
            f"This endpoint is disabled ({endpoint.disabled_reason}), so nothing is sent to it. "
            f"Enable it first: PATCH /v1/webhooks/endpoints/{endpoint.public_id} with "
            '{"enabled": true}.'
        )
    return outbox.emit(
        session=session,
        event_type="webhook.test",
        partner_id=partner_id,
        data={"endpoint_id": endpoint.public_id, "message": "Test event from Vigie."},
    )


# -- deliveries as the partner sees them ----------------------------------------


def list_deliveries(
    *,
    session: Session,
    partner_id: int | None,
    endpoint_id: str,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[WebhookDelivery]:
    """Newest first, each with its event and its attempts."""
    endpoint = get_endpoint(session=session, partner_id=partner_id, endpoint_id=endpoint_id)
    query = (
        select(WebhookDelivery)
        .join(WebhookDelivery.event)
        .options(contains_eager(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log))
        .where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return DELIVERIES.page(session, query, limit=limit, cursor=cursor)


def get_delivery(*, session: Session, partner_id: int | None, delivery_id: str) -> WebhookDelivery:
    """A delivery to one of the caller's endpoints; another's is indistinguishable from a
    missing one. Its attempts are not loaded."""
    endpoints = select(WebhookEndpoint.id).where(*_visible(partner_id))
    return get_or_404(
        session,
        WebhookDelivery,
        delivery_id,
        what="webhook delivery",
        where=(WebhookDelivery.endpoint_id.in_(endpoints),),
    )


def retry_delivery(
    *, session: Session, partner_id: int | None, delivery_id: str
) -> WebhookDelivery:
    """Re-queue a failed delivery for a new round of the retry schedule."""
    delivery = get_delivery(session=session, partner_id=partner_id, delivery_id=delivery_id)
    if delivery.status != "failed":
        raise Conflict(f"Only a failed delivery can be retried; this one is {delivery.status}.")
    now = clock.now()
    delivery.status = "pending"
    delivery.step = 0
    delivery.next_attempt_at = now
    delivery.locked_until = None
    delivery.locked_by = None
    delivery.updated_at = now
    # Answered with an empty attempt list, as always: the new round has no attempt yet
    # (`attempts`, the count, keeps the earlier ones).
    set_committed_value(delivery, "attempt_log", [])
    return delivery


def counts(*, session: Session) -> dict[str, int]:
    """Deliveries by status (operations), of every endpoint."""
    query = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    return {status: n for status, n in session.execute(query)}


def counts_by_endpoint(
    *, session: Session, endpoint_ids: Iterable[int]
) -> dict[int, dict[str, int]]:
    """Deliveries by status of each of these endpoints, in one query."""
    found: dict[int, dict[str, int]] = {}
    query = (
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.endpoint_id.in_(list(endpoint_ids)))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
    )
    for endpoint_id, status, n in session.execute(query):
        found.setdefault(endpoint_id, {})[status] = n
    return found

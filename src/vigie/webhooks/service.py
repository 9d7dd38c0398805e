"""Endpoint management, fan-out of outbox events, claiming, signing and recording attempts.

Nothing here sends HTTP: `vigie.worker` claims deliveries, sends them with `vigie.webhooks.outbound`
and hands the results back to `record`.
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

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
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatch,
    WebhookEndpoint,
)

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
# Events with no partner that are for everyone subscribed (the others are MIPROF's).
BROADCAST_PREFIXES = ("content.",)
EVENT_TYPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
MAX_BODY_EXCERPT = 1024


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


# -- fan-out --------------------------------------------------------------------


def _recipients(event: OutboxEvent, endpoints: Sequence[WebhookEndpoint]) -> list[WebhookEndpoint]:
    """Who receives `event`. MIPROF endpoints (no partner) receive every type they subscribe to;
    a partner receives its own events, and broadcast (content) events. An endpoint receives
    only what happened after it was registered, even if the fan-out runs later."""
    chosen = []
    for endpoint in endpoints:
        if event.type not in endpoint.events or event.created_at < endpoint.created_at:
            continue
        if event.type == "webhook.test" and event.data.get("endpoint_id") != endpoint.public_id:
            continue
        if (
            endpoint.partner_id is None
            or event.partner_id == endpoint.partner_id
            or (event.partner_id is None and event.type.startswith(BROADCAST_PREFIXES))
        ):
            chosen.append(endpoint)
    return chosen


def fan_out(
    *, session: Session, is_sqlite: bool, limit: int = 500, since: datetime | None = None
) -> int:
    """Turn undispatched outbox events into deliveries; returns how many events were handled.

    On PostgreSQL the events are locked with SKIP LOCKED so that workers share the work;
    on SQLite the caller's BEGIN IMMEDIATE serialises it.
    """
    query = (
        select(OutboxEvent)
        .where(~exists().where(WebhookDispatch.event_id == OutboxEvent.id))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(OutboxEvent.created_at >= since)
    if not is_sqlite:
        query = query.with_for_update(skip_locked=True, of=OutboxEvent)
    events = list(session.scalars(query))
    if not events:
        return 0
    endpoints = list(
        session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)))
    )
    now = clock.now()
    deliveries: list[dict[str, Any]] = []
    dispatches: list[dict[str, Any]] = []
    for event in events:
        recipients = _recipients(event, endpoints)
        dispatches.append(
            {"event_id": event.id, "dispatched_at": now, "deliveries": len(recipients)}
        )
        for endpoint in recipients:
            deliveries.append(
                {
                    "public_id": new_id("whd"),
                    "endpoint_id": endpoint.id,
                    "event_id": event.id,
                    "status": "pending",
                    "attempts": 0,
                    "step": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    # A worker whose snapshot predates another's commit may see the same event: the
    # unique keys turn its second fan-out into a no-op instead of duplicate deliveries.
    insert = sqlite_insert if is_sqlite else pg_insert
    session.execute(insert(WebhookDispatch).on_conflict_do_nothing(), dispatches)
    if deliveries:
        session.execute(insert(WebhookDelivery).on_conflict_do_nothing(), deliveries)
    return len(events)


# -- claiming -------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to send it."""

    delivery_id: int
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    event_public_id: str
    event_type: str
    event_created_at: datetime
    event_data: dict[str, Any]
    step: int
    endpoint_failing: bool = False


def claim(
    *,
    session: Session,
    crypto: Crypto,
    is_sqlite: bool,
    owner: str,
    limit: int,
    lease_seconds: float,
    per_endpoint: int = 1_000_000,
    inflight: Mapping[int, int] | None = None,
    exclude: Collection[int] = (),
) -> list[Job]:
    """Take up to `limit` due deliveries under a lease (see docs/webhooks.md, "Claiming").

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, then set the lease, in one short transaction.
    SQLite: compare-and-swap UPDATE … RETURNING inside the caller's BEGIN IMMEDIATE.
    No endpoint gets more than `per_endpoint` deliveries in flight (`inflight` counts this
    worker's), so one slow endpoint cannot hold every sender thread.
    """
    if limit <= 0:
        return []
    now = clock.now()
    budget = {e: per_endpoint - n for e, n in (inflight or {}).items()}
    free = or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now)
    due = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.step,
            WebhookEndpoint.url,
            WebhookEndpoint.secret_enc,
            WebhookEndpoint.previous_secret_enc,
            WebhookEndpoint.previous_secret_expires_at,
            WebhookEndpoint.failing_since,
            OutboxEvent.public_id,
            OutboxEvent.type,
            OutboxEvent.created_at,
            OutboxEvent.data,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            free,
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    busy = [e for e, left in budget.items() if left <= 0]
    if busy:
        due = due.where(WebhookDelivery.endpoint_id.not_in(busy))
    if not is_sqlite:
        due = due.with_for_update(skip_locked=True, of=WebhookDelivery)
    candidates = {}
    for row in session.execute(due):
        if row.id in exclude:  # ours, in flight, lease run out: never send it twice at once
            continue
        left = budget.get(row.endpoint_id, per_endpoint)
        if left > 0:
            candidates[row.id] = row
            budget[row.endpoint_id] = left - 1
    if not candidates:
        return []
    lease = now + timedelta(seconds=lease_seconds)
    claimed = session.scalars(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(candidates)), free)
        .values(locked_until=lease, locked_by=owner)
        .returning(WebhookDelivery.id)
    )
    jobs = []
    for delivery_id in claimed:
        row = candidates[delivery_id]
        keys = [crypto.decrypt(row.secret_enc) or ""]
        if (
            row.previous_secret_enc
            and row.previous_secret_expires_at
            and (row.previous_secret_expires_at > now)
        ):
            keys.append(crypto.decrypt(row.previous_secret_enc) or "")
        jobs.append(
            Job(
                delivery_id=row.id,
                endpoint_id=row.endpoint_id,
                url=row.url,
                secrets=tuple(k for k in keys if k),
                event_public_id=row.public_id,
                event_type=row.type,
                event_created_at=row.created_at,
                event_data=row.data,
                step=row.step,
                endpoint_failing=row.failing_since is not None,
            )
        )
    return jobs


def renew(
    *, session: Session, owner: str, delivery_ids: Iterable[int], lease_seconds: float
) -> None:
    """Extend this worker's leases on deliveries it is still sending."""
    ids = list(delivery_ids)
    if ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.locked_by == owner)
            .values(locked_until=clock.now() + timedelta(seconds=lease_seconds))
        )


def release(*, session: Session, owner: str, delivery_ids: Iterable[int]) -> None:
    """Give back leases without an attempt (shutdown)."""
    ids = list(delivery_ids)
    if ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.locked_by == owner)
            .values(locked_until=None, locked_by=None)
        )


# -- signing --------------------------------------------------------------------


def build_message(job: Job, *, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers, signed by the library with every live secret."""
    payload = {
        "type": job.event_type,
        "timestamp": job.event_created_at.isoformat().replace("+00:00", "Z"),
        "data": job.event_data,
    }
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    signatures = " ".join(
        Webhook(secret).sign(msg_id=job.event_public_id, timestamp=now, data=body)
        for secret in job.secrets
    )
    headers = {
        "webhook-id": job.event_public_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }
    return body.encode(), headers


# -- recording ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    job: Job
    result: outbound.Result
    attempted_at: datetime


def retry_after_seconds(headers: Any, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_delay(step: int, settings: Settings, retry_after: float | None) -> float | None:
    """Seconds before the next attempt after `step` attempts, or None when the schedule is over."""
    if step >= len(settings.schedule):
        return None
    delay = settings.schedule[step]
    delay *= 1 + random.uniform(-settings.jitter, settings.jitter)  # noqa: S311 - jitter, not crypto
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.retry_after_max_seconds))
    return max(delay, 0.0)


def record(
    *, session: Session, settings: Settings, owner: str, outcomes: Sequence[Outcome]
) -> None:
    """Store each attempt and move its delivery on: delivered, retried later, or failed.

    410 Gone disables the endpoint at once; an endpoint whose deliveries have all failed
    for `webhook_disable_after_hours` is disabled. Either way its owner gets an event.
    """
    if not outcomes:
        return
    now = clock.now()
    insert_attempts = WebhookAttempt.__table__.insert()  # type: ignore[attr-defined]
    session.execute(
        insert_attempts,
        [
            {
                "delivery_id": o.job.delivery_id,
                "attempted_at": o.attempted_at,
                "status_code": o.result.status,
                "duration_ms": o.result.duration_ms,
                "error": o.result.error or (None if o.result.ok else f"http_{o.result.status}"),
                "response_body": _excerpt(o.result.body),
                "worker": owner,
            }
            for o in outcomes
        ],
    )
    succeeded: set[int] = set()
    failed: set[int] = set()
    gone: set[int] = set()
    delivered_ids = [o.job.delivery_id for o in outcomes if o.result.ok]
    if delivered_ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivered_ids))
            .values(
                status="delivered",
                attempts=WebhookDelivery.attempts + 1,
                step=WebhookDelivery.step + 1,
                delivered_at=now,
                updated_at=now,
                next_attempt_at=None,
                locked_until=None,
                locked_by=None,
                last_status_code=200,
                last_error=None,
            )
        )
    recovered: set[int] = set()
    for o in outcomes:
        if o.result.ok:
            succeeded.add(o.job.endpoint_id)
            if o.job.endpoint_failing:
                recovered.add(o.job.endpoint_id)
            continue
        failed.add(o.job.endpoint_id)
        status = o.result.status
        if status == 410:
            gone.add(o.job.endpoint_id)
        retry_after = None
        if status in (429, 503):
            retry_after = retry_after_seconds(o.result.headers, now)
        delay = None if status == 410 else next_delay(o.job.step + 1, settings, retry_after)
        values: dict[str, Any] = {
            "attempts": WebhookDelivery.attempts + 1,
            "step": WebhookDelivery.step + 1,
            "updated_at": now,
            "last_status_code": status,
            "last_error": o.result.error or f"http_{status}",
        }
        if delay is None:
            values.update(status="failed", next_attempt_at=None)
        else:
            values.update(next_attempt_at=now + timedelta(seconds=delay))
        # Only the lease holder moves the delivery on; a stale worker just adds its attempt.
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == o.job.delivery_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.locked_by == owner,
            )
            .values(**values, locked_until=None, locked_by=None)
        )
    if recovered:  # only endpoints that were failing when their delivery was claimed
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(recovered), WebhookEndpoint.failing_since.is_not(None))
            .values(failing_since=None)
        )
    still_failing = failed - succeeded
    if still_failing:
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(still_failing), WebhookEndpoint.failing_since.is_(None))
            .values(failing_since=now)
        )
        limit = now - timedelta(hours=settings.disable_after_hours)
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_(still_failing),
                WebhookEndpoint.enabled.is_(True),
                or_(WebhookEndpoint.id.in_(gone), WebhookEndpoint.failing_since <= limit),
            )
        ):
            disable(
                session=session,
                endpoint=endpoint,
                reason="gone" if endpoint.id in gone else "failing",
            )


def _excerpt(body: bytes) -> str | None:
    if not body:
        return None
    return body[:MAX_BODY_EXCERPT].decode("utf-8", errors="replace")[:MAX_BODY_EXCERPT]


def disable(*, session: Session, endpoint: WebhookEndpoint, reason: str) -> None:
    """Disable an endpoint and tell its owner with a `webhook.endpoint_disabled` event."""
    now = clock.now()
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    endpoint.updated_at = now
    outbox.emit(
        session=session,
        event_type="webhook.endpoint_disabled",
        partner_id=endpoint.partner_id,
        data={"endpoint_id": endpoint.public_id, "reason": reason},
    )


def counts(*, session: Session) -> dict[str, int]:
    """Deliveries by status (operations)."""
    return {
        status: n
        for status, n in session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        )
    }

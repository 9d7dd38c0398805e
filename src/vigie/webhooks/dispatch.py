"""From outbox events to recorded attempts, in the database: the delivery machinery.

- `fan_out` turns new outbox events into one delivery per subscribed endpoint;
- `claim` takes due deliveries under a lease (`renew` extends it, `release` gives it back);
- `build_message` signs what is sent (Standard Webhooks); an endpoint with a forwarder (a
  shelter network's intake) gets the `data` its forwarder built;
- `record` stores each attempt and moves its delivery on: delivered, retried or failed,
  disabling an endpoint that answers 410 or has failed for too long.

Nothing here sends HTTP: `vigie.webhooks.delivery` runs the loop that claims, sends with
`vigie.webhooks.outbound` and hands the results back to `record`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from vigie import clock
from vigie.crypto import Crypto
from vigie.ids import new_id
from vigie.integrations import ForwardResult
from vigie.outbox import service as outbox
from vigie.outbox.models import OutboxEvent
from vigie.webhooks import outbound
from vigie.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatch,
    WebhookEndpoint,
)
from vigie.webhooks.service import Settings

# Events with no partner that are for everyone subscribed (the others are MIPROF's).
BROADCAST_PREFIXES = ("content.",)
MAX_BODY_EXCERPT = 1024


# -- fan-out --------------------------------------------------------------------


def _recipients(event: OutboxEvent, endpoints: Sequence[WebhookEndpoint]) -> list[WebhookEndpoint]:
    """Who receives `event` (see `_receives`)."""
    return [endpoint for endpoint in endpoints if _receives(endpoint, event)]


def _receives(endpoint: WebhookEndpoint, event: OutboxEvent) -> bool:
    """An event routed to a shelter network goes to that network's intake and nowhere else,
    and an intake receives nothing else. Otherwise MIPROF endpoints (no owner) receive every
    type they subscribe to; a partner receives its own events, and broadcast (content) events.
    An endpoint receives only what happened after it was registered, even if the fan-out
    runs later."""
    if event.type not in endpoint.events or event.created_at < endpoint.created_at:
        return False
    if event.shelter_network_id is not None or endpoint.shelter_network_id is not None:
        return event.shelter_network_id == endpoint.shelter_network_id
    if event.type == "webhook.test" and event.data.get("endpoint_id") != endpoint.public_id:
        return False
    return (
        endpoint.partner_id is None
        or event.partner_id == endpoint.partner_id
        or (event.partner_id is None and event.type.startswith(BROADCAST_PREFIXES))
    )


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
    # A disabled endpoint gets no new deliveries, except a shelter network's intake: a
    # referral forwarded to it waits there until the intake is enabled again, never lost.
    endpoints = list(
        session.scalars(
            select(WebhookEndpoint).where(
                or_(
                    WebhookEndpoint.enabled.is_(True),
                    and_(
                        WebhookEndpoint.shelter_network_id.is_not(None),
                        WebhookEndpoint.deleted_at.is_(None),
                    ),
                )
            )
        )
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
    forwarder: str | None = None  # the integration that builds `data` and reads the answer


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
    due = _due(now, limit=limit, busy=[e for e, left in budget.items() if left <= 0])
    if not is_sqlite:
        due = due.with_for_update(skip_locked=True, of=WebhookDelivery)
    candidates = _within_budget(
        session.execute(due), budget=budget, per_endpoint=per_endpoint, exclude=exclude
    )
    if not candidates:
        return []
    claimed = session.scalars(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(candidates)), _lease_free(now))
        .values(locked_until=now + timedelta(seconds=lease_seconds), locked_by=owner)
        .returning(WebhookDelivery.id)
    )
    return [_job(candidates[delivery_id], crypto=crypto, now=now) for delivery_id in claimed]


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now)


def _due(now: datetime, *, limit: int, busy: Sequence[int]) -> Select[*tuple[Any, ...]]:
    """Due, unleased deliveries to enabled endpoints not in `busy`, with what sending needs."""
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
            WebhookEndpoint.forwarder,
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
            _lease_free(now),
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if busy:
        due = due.where(WebhookDelivery.endpoint_id.not_in(busy))
    return due


def _within_budget(
    rows: Iterable[Row[*tuple[Any, ...]]],
    *,
    budget: dict[int, int],
    per_endpoint: int,
    exclude: Collection[int],
) -> dict[int, Row[*tuple[Any, ...]]]:
    """The rows to claim, by delivery id: none of ours still in flight, and no endpoint
    over its budget (`budget` is spent as rows are taken)."""
    candidates = {}
    for row in rows:
        if row.id in exclude:  # ours, in flight, lease run out: never send it twice at once
            continue
        left = budget.get(row.endpoint_id, per_endpoint)
        if left > 0:
            candidates[row.id] = row
            budget[row.endpoint_id] = left - 1
    return candidates


def _job(row: Row[*tuple[Any, ...]], *, crypto: Crypto, now: datetime) -> Job:
    return Job(
        delivery_id=row.id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        secrets=_live_secrets(row, crypto=crypto, now=now),
        event_public_id=row.public_id,
        event_type=row.type,
        event_created_at=row.created_at,
        event_data=row.data,
        step=row.step,
        endpoint_failing=row.failing_since is not None,
        forwarder=row.forwarder,
    )


def _live_secrets(row: Row[*tuple[Any, ...]], *, crypto: Crypto, now: datetime) -> tuple[str, ...]:
    """The current secret, and the previous one until its overlap ends (a rotation)."""
    keys = [crypto.decrypt(row.secret_enc) or ""]
    if (
        row.previous_secret_enc
        and row.previous_secret_expires_at
        and (row.previous_secret_expires_at > now)
    ):
        keys.append(crypto.decrypt(row.previous_secret_enc) or "")
    return tuple(k for k in keys if k)


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


def build_message(
    job: Job, *, now: datetime, data: dict[str, Any] | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers, signed by the library with every live secret.

    `data` replaces the event's own data (what a forwarder built for its intake)."""
    payload = {
        "type": job.event_type,
        "timestamp": job.event_created_at.isoformat().replace("+00:00", "Z"),
        "data": job.event_data if data is None else data,
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
    """One attempt. `verdict` is a forwarder's reading of the answer; without one, any 2xx
    is a success and any other answer is retried (410 excepted)."""

    job: Job
    result: outbound.Result
    attempted_at: datetime
    verdict: ForwardResult | None = None

    @property
    def ok(self) -> bool:
        return self.result.ok if self.verdict is None else self.verdict.ok

    @property
    def final(self) -> bool:
        """A failure not to retry: 410 Gone, or what the forwarder calls permanent."""
        permanent = self.verdict is not None and self.verdict.permanent
        return not self.ok and (self.result.status == 410 or permanent)

    @property
    def error(self) -> str | None:
        """The attempt's error class; None on success."""
        if self.ok:
            return None
        verdict_error = self.verdict.error if self.verdict is not None else None
        return verdict_error or self.result.error or f"http_{self.result.status}"


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
    _insert_attempts(session, owner=owner, outcomes=outcomes)
    _mark_delivered(session, [o for o in outcomes if o.ok], now=now)
    for outcome in outcomes:
        if not outcome.ok:
            _retry_or_fail(session, outcome, settings=settings, owner=owner, now=now)
    _update_endpoint_health(session, outcomes, settings=settings, now=now)


def _insert_attempts(session: Session, *, owner: str, outcomes: Sequence[Outcome]) -> None:
    insert_attempts = WebhookAttempt.__table__.insert()  # type: ignore[attr-defined]
    session.execute(
        insert_attempts,
        [
            {
                "delivery_id": o.job.delivery_id,
                "attempted_at": o.attempted_at,
                "status_code": o.result.status,
                "duration_ms": o.result.duration_ms,
                "error": o.error,
                "response_body": _excerpt(o.result.body),
                "worker": owner,
            }
            for o in outcomes
        ],
    )


def _mark_delivered(session: Session, delivered: Sequence[Outcome], *, now: datetime) -> None:
    """One UPDATE per distinct success status (usually one: 200 or 204), each storing it."""
    by_status: dict[int | None, list[int]] = {}
    for outcome in delivered:
        by_status.setdefault(outcome.result.status, []).append(outcome.job.delivery_id)
    for status, delivery_ids in by_status.items():
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .values(
                status="delivered",
                attempts=WebhookDelivery.attempts + 1,
                step=WebhookDelivery.step + 1,
                delivered_at=now,
                updated_at=now,
                next_attempt_at=None,
                locked_until=None,
                locked_by=None,
                last_status_code=status,
                last_error=None,
            )
        )


def _retry_or_fail(
    session: Session, outcome: Outcome, *, settings: Settings, owner: str, now: datetime
) -> None:
    """Schedule the next attempt of a failed one, or fail the delivery (410, schedule over)."""
    status = outcome.result.status
    retry_after = None
    if status in (429, 503):
        retry_after = retry_after_seconds(outcome.result.headers, now)
    delay = None if outcome.final else next_delay(outcome.job.step + 1, settings, retry_after)
    values: dict[str, Any] = {
        "attempts": WebhookDelivery.attempts + 1,
        "step": WebhookDelivery.step + 1,
        "updated_at": now,
        "last_status_code": status,
        "last_error": outcome.error,
    }
    if delay is None:
        values.update(status="failed", next_attempt_at=None)
    else:
        values.update(next_attempt_at=now + timedelta(seconds=delay))
    # Only the lease holder moves the delivery on; a stale worker just adds its attempt.
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == outcome.job.delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.locked_by == owner,
        )
        .values(**values, locked_until=None, locked_by=None)
    )


def _update_endpoint_health(
    session: Session, outcomes: Sequence[Outcome], *, settings: Settings, now: datetime
) -> None:
    """An endpoint that succeeds is no longer failing; one that only failed is failing
    since now (if it was not already), and disabled if gone (410) or failing too long."""
    succeeded = {o.job.endpoint_id for o in outcomes if o.ok}
    # only endpoints that were failing when their delivery was claimed
    recovered = {o.job.endpoint_id for o in outcomes if o.ok and o.job.endpoint_failing}
    failed = {o.job.endpoint_id for o in outcomes if not o.ok}
    gone = {o.job.endpoint_id for o in outcomes if o.result.status == 410}
    if recovered:
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
        _disable_dead(session, still_failing, gone=gone, settings=settings, now=now)


def _disable_dead(
    session: Session, failing: set[int], *, gone: set[int], settings: Settings, now: datetime
) -> None:
    limit = now - timedelta(hours=settings.disable_after_hours)
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id.in_(failing),
            WebhookEndpoint.enabled.is_(True),
            or_(WebhookEndpoint.id.in_(gone), WebhookEndpoint.failing_since <= limit),
        )
    ):
        disable(
            session=session, endpoint=endpoint, reason="gone" if endpoint.id in gone else "failing"
        )


def _excerpt(body: bytes) -> str | None:
    """The first 1 KiB of a receiver's answer as text: bytes that are not UTF-8, and NUL
    (which PostgreSQL's text cannot hold: one such answer failed the recording of every
    outcome of its batch), become U+FFFD."""
    if not body:
        return None
    text = body[:MAX_BODY_EXCERPT].decode("utf-8", errors="replace")[:MAX_BODY_EXCERPT]
    return text.replace("\x00", "\ufffd")


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

"""Claim, complete, release and purge Idempotency-Keys.

A key is claimed in its own short transaction (the caller commits right away) so
that a second request with the same key sees it in flight; the claim carries a
lease so a key whose process died can be taken over once the lease expires.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigie import clock
from vigie.errors import Conflict, Invalid, field_error
from vigie.idempotency.models import IdempotencyKey

MAX_KEY_LENGTH = 255


class KeyInUse(Conflict):
    slug = "idempotency-key-in-use"
    summary = "Idempotency-Key in use"
    meaning = "A request with this Idempotency-Key is still being processed."
    fix = (
        "Wait for the Retry-After seconds and send the same request again with the same key: "
        "you will get the first request's answer."
    )


class KeyReused(Invalid):
    slug = "idempotency-key-reused"
    summary = "Idempotency-Key reused"
    meaning = (
        "This Idempotency-Key was already used with another request (another body or "
        "another operation). A key stands for one request you mean once."
    )
    fix = "Use a new key (a fresh UUID) for each distinct request; reuse a key only to retry."


@dataclass(frozen=True)
class Claimed:
    """This request owns the key and runs; complete() or release() it afterwards."""

    id: int


@dataclass(frozen=True)
class Replay:
    """The key already has a response: send it again."""

    status: int
    body: str
    headers: dict[str, str]


def fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request: JSON bodies are canonicalised (key order, spacing)."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    except (ValueError, UnicodeDecodeError, RecursionError):  # the view then refuses the body
        canonical = body
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def _in_use() -> KeyInUse:
    return KeyInUse(
        "A request with this Idempotency-Key is still being processed; retry later.",
        headers={"Retry-After": "1"},
    )


def begin(
    *,
    session: Session,
    partner_id: int,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    lease: timedelta,
) -> Claimed | Replay:
    """Claim `key` for this request, or say how to answer it.

    Raises KeyReused (422) when the key was used with another request, KeyInUse
    (409) while the first request with the key holds its lease.
    """
    now = clock.now()
    for _ in range(3):
        row = session.scalar(
            select(IdempotencyKey)
            .where(IdempotencyKey.partner_id == partner_id, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
        if row is None:
            claimed = _claim(
                session,
                partner_id=partner_id,
                key=key,
                fingerprint=fingerprint,
                now=now,
                ttl=ttl,
                lease=lease,
            )
            if claimed is not None:
                return claimed
        elif row.expires_at <= now:  # past its retention: as if never seen
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.id == row.id, IdempotencyKey.expires_at <= now
                )
            )
        else:
            return _seen(session, row, fingerprint=fingerprint, now=now, lease=lease)
    raise _in_use()


def _claim(
    session: Session,
    *,
    partner_id: int,
    key: str,
    fingerprint: str,
    now: datetime,
    ttl: timedelta,
    lease: timedelta,
) -> Claimed | None:
    """Insert the key with a lease; None if a concurrent request claimed it first."""
    claim = IdempotencyKey(
        partner_id=partner_id,
        key=key,
        fingerprint=fingerprint,
        created_at=now,
        expires_at=now + ttl,
        locked_until=now + lease,
    )
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        return None
    return Claimed(claim.id)


def _seen(
    session: Session, row: IdempotencyKey, *, fingerprint: str, now: datetime, lease: timedelta
) -> Claimed | Replay:
    """A key within its retention: replay its response, refuse, or take over a dead claim."""
    if row.fingerprint != fingerprint:
        raise KeyReused(
            "This Idempotency-Key was already used with a different request.",
            errors=[
                field_error("Idempotency-Key", "Used before with another body.", location="header")
            ],
        )
    if row.response_status is not None:
        return Replay(row.response_status, row.response_body or "", row.response_headers or {})
    if row.locked_until is not None and row.locked_until > now:
        raise _in_use()
    # The first request's process died with the lease: take the key over, once.
    taken = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == row.id,
            IdempotencyKey.response_status.is_(None),
            IdempotencyKey.locked_until == row.locked_until,
        )
        .values(locked_until=now + lease)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return Claimed(row.id)
    raise _in_use()


def complete(
    *, session: Session, claim: Claimed, status: int, body: str, headers: dict[str, Any]
) -> None:
    """Record the response to replay; the caller commits."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim.id)
        .values(
            response_status=status,
            response_body=body,
            response_headers=headers,
            locked_until=None,
        )
    )


def release(*, session: Session, claim: Claimed) -> None:
    """Forget a claim whose request failed, so the key can be retried; the caller commits."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.id == claim.id, IdempotencyKey.response_status.is_(None)
        )
    )


def purge(*, session: Session, now: datetime | None = None) -> int:
    """Delete keys past their retention; returns how many."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or clock.now()))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]

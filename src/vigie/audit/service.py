"""Append to the audit log, read it, and verify its hash chain.

Appends are serialised so the chain never forks: PostgreSQL takes a transaction-level
advisory lock, SQLite relies on the write transaction (BEGIN IMMEDIATE) every writer holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vigie import clock
from vigie.audit.models import AuditEntry
from vigie.pagination import Key, Keyset, Page

GENESIS = "0" * 64
BY_SEQ = Keyset(Key("s", AuditEntry.seq))
LOCK_KEY = 0x56494749  # "VIGI": the advisory lock of the audit chain (PostgreSQL)


@dataclass(frozen=True)
class Who:
    """The author of an action: a staff member in a request, or a system job."""

    actor: str
    role: str | None = None
    request_id: str | None = None
    operator_id: int | None = None

    @classmethod
    def system(cls, job: str) -> Who:
        return cls(actor=f"system:{job}")


def _payload(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "report_id": entry.report_id,
        "target": entry.target,
        "request_id": entry.request_id,
        "details": entry.details,
    }


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    canonical = json.dumps(_payload(entry), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def record(
    *,
    session: Session,
    who: Who,
    action: str,
    report_id: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction. Never put free text or personal data in it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    # Microseconds are dropped so the hashed timestamp survives every engine's round trip.
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        at=clock.now().replace(microsecond=0),
        actor=who.actor,
        actor_role=who.role,
        action=action,
        report_id=report_id,
        target=target,
        request_id=who.request_id,
        details=details or {},
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head: str
    broken_at: int | None = None
    reason: str | None = None


def verify(*, session: Session) -> Verification:
    """Walk the chain from the first entry; a modified, inserted or deleted entry fails it."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    rows = session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    try:
        for entry in rows:
            if entry.seq != expected_seq:
                return Verification(False, count, expected_prev, entry.seq, "an entry is missing")
            if entry.prev_hash != expected_prev:
                return Verification(False, count, expected_prev, entry.seq, "previous hash differs")
            if entry_hash(entry.prev_hash, entry) != entry.hash:
                return Verification(False, count, expected_prev, entry.seq, "content was modified")
            expected_prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    finally:
        rows.close()  # a server-side cursor on PostgreSQL
    return Verification(True, count, expected_prev)


def list_(
    *,
    session: Session,
    report_id: str | None,
    actor: str | None,
    action: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """Entries oldest first (the order they happened), filtered."""
    query = select(AuditEntry)
    if report_id is not None:
        query = query.where(AuditEntry.report_id == report_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return BY_SEQ.page(session, query, limit=limit, cursor=cursor)

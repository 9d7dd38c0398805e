"""Periodic jobs run once per period across several worker processes.

Each job has a lease row in `periodic_job_runs`. A worker runs a job only if it wins
the row with a compare-and-swap (lease free and the period elapsed since the last start);
on PostgreSQL it also holds a session advisory lock while the job runs, so a job that
overruns its lease never runs twice at the same time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import String, insert, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from vigie import clock
from vigie.db import Base, Database, UTCDateTime

log = logging.getLogger(__name__)


class PeriodicJobRun(Base):
    """The lease row of one periodic job."""

    __tablename__ = "periodic_job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _acquire(db: Database, *, name: str, period: float, lease: float, owner: str) -> bool:
    now = clock.now()
    with db.unit(write=True) as session:
        if session.get(PeriodicJobRun, name) is None:
            try:
                with session.begin_nested():
                    session.execute(insert(PeriodicJobRun).values(name=name))
            except IntegrityError:
                pass  # another worker created it first
        won = session.execute(
            update(PeriodicJobRun)
            .where(
                PeriodicJobRun.name == name,
                or_(PeriodicJobRun.locked_until.is_(None), PeriodicJobRun.locked_until < now),
                or_(
                    PeriodicJobRun.last_started_at.is_(None),
                    # a little slack so that timer drift never skips a whole period
                    PeriodicJobRun.last_started_at <= now - timedelta(seconds=period * 0.9),
                ),
            )
            .values(
                last_started_at=now, locked_until=now + timedelta(seconds=lease), locked_by=owner
            )
            .returning(PeriodicJobRun.name)
        ).first()
    return won is not None


def _release(db: Database, *, name: str, owner: str) -> None:
    with db.unit(write=True) as session:
        session.execute(
            update(PeriodicJobRun)
            .where(PeriodicJobRun.name == name, PeriodicJobRun.locked_by == owner)
            .values(locked_until=None, locked_by=None, last_finished_at=clock.now())
        )


@contextmanager
def _advisory_lock(db: Database, name: str) -> Iterator[bool]:
    """Yield whether this worker holds the job's session advisory lock (PostgreSQL), kept
    while the block runs; always True on SQLite, which has no such lock (a no-op)."""
    if db.is_sqlite:
        yield True
        return
    key = advisory_key(name)
    with db.engine.connect() as conn:
        locked = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield locked
        finally:
            if locked:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def run_once_per_period(
    db: Database, *, name: str, period: float, owner: str, job: Callable[[], object]
) -> bool:
    """Run `job` if this worker wins this period's lease; returns whether it ran."""
    lease = max(period, 60.0)
    with _advisory_lock(db, name) as locked:
        if not locked or not _acquire(db, name=name, period=period, lease=lease, owner=owner):
            return False
        try:
            job()
        finally:
            _release(db, name=name, owner=owner)
        return True


__all__ = ["PeriodicJobRun", "run_once_per_period"]

"""Who pulled what: counted in memory, written in batches.

Each partner read adds to a counter keyed by (UTC day, partner, item, locale).
A worker writes its counters at most once per `content_pull_flush_seconds`,
after a response has been sent (never before it), and when the process exits.
A worker killed with SIGKILL loses at most that interval of counts: these feed
indicators, not accounting.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from vigie import clock
from vigie.db import Database
from vigie.errors import log_failure

log = logging.getLogger(__name__)

Key = tuple[date, int, int, str]  # day, partner id, item id, locale
MAX_KEYS = 50_000  # beyond this (database down for long), new counts are dropped


class PullRecorder:
    def __init__(self, *, db: Database, flush_seconds: float) -> None:
        self.db = db
        self.interval = timedelta(seconds=flush_seconds)
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}
        self._flushed_at = clock.now()
        atexit.register(self.flush)

    def record(
        self, *, partner_id: int, items: Iterable[tuple[int, str]], revalidated: bool
    ) -> None:
        day = clock.now().date()
        slot = 1 if revalidated else 0
        with self._lock:
            counts = self._counts
            for item_id, locale in items:
                key = (day, partner_id, item_id, locale)
                row = counts.get(key)
                if row is None:
                    if len(counts) >= MAX_KEYS:
                        continue
                    row = counts[key] = [0, 0]
                row[slot] += 1

    def due(self, now: datetime | None = None) -> bool:
        return bool(self._counts) and (now or clock.now()) - self._flushed_at >= self.interval

    def flush(self) -> int:
        """Write the pending counts; returns how many rows were touched."""
        from vigie.content import service

        with self._lock:
            pending, self._counts = self._counts, {}
            self._flushed_at = clock.now()
        if not pending:
            return 0
        try:
            with self.db.unit() as session:
                service.add_pulls(session=session, counts=pending)
        # A flush runs after the response is sent, or at exit: no caller above can handle a
        # failure, so it is logged and the counts are kept for the next flush.
        except Exception as exc:  # noqa: BLE001 - nothing above a flush can handle its failure
            log_failure(log, "could not write content pull counts; kept for the next flush", exc)
            with self._lock:
                for key, (pulls, revalidations) in pending.items():
                    row = self._counts.setdefault(key, [0, 0])
                    row[0] += pulls
                    row[1] += revalidations
            return 0
        return len(pending)

    def close(self) -> None:
        """Stop flushing at exit and drop pending counts (tests, or an app being discarded)."""
        atexit.unregister(self.flush)
        with self._lock:
            self._counts = {}

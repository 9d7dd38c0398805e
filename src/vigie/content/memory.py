"""Per-process memory of the catalogue and of the responses built from it (`ContentCache`).

Staleness: a worker asks the database for the content version (one primary-key
read of `content_state`) at most once every `content_version_ttl_seconds`, so an
editor's publish or retire reaches every worker within that bound (plus the
`max-age` a shared cache may add). The worker that served the editor's request
drops its memory at once. Nothing here touches the database on a hit: the 304
path is a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

from vigie import clock
from vigie.content.catalogue import Catalogue, Representation


class ContentCache:
    def __init__(self, *, ttl_seconds: float, max_responses: int = 1024) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_responses = max_responses
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._checked_at: datetime | None = None
        self._responses: OrderedDict[Hashable, Representation] = OrderedDict()
        self._memo: OrderedDict[
            Hashable, tuple[tuple[str, int], Representation, str, dict[str, str]]
        ] = OrderedDict()

    def catalogue(self, *, token: Callable[[], str], load: Callable[[], Catalogue]) -> Catalogue:
        """The current catalogue; `token()` is called once per TTL, `load()` when it changed."""
        now = clock.now()
        current, checked = self._catalogue, self._checked_at
        if current is not None and checked is not None and now - checked < self.ttl:
            return current
        latest = token()
        if current is None or current.token != latest:
            current = load()
            with self._lock:
                self._catalogue = current
                self._responses.clear()
                self._memo.clear()
        self._checked_at = now
        return current

    def invalidate(self) -> None:
        """Forget everything (this worker just changed the content)."""
        with self._lock:
            self._catalogue = None
            self._checked_at = None
            self._responses.clear()
            self._memo.clear()

    def response(self, key: Hashable, build: Callable[[], Representation]) -> Representation:
        found = self._responses.get(key)
        if found is not None:
            return found
        built = build()
        with self._lock:
            self._responses[key] = built
            while len(self._responses) > self.max_responses:
                self._responses.popitem(last=False)
        return built

    # Raw-request memo: (host, path, query string, Accept-Language) -> what was served,
    # so a request seen before skips argument parsing (see http_cache.answer_from_memory).

    def knows(self, key: Hashable) -> bool:
        return key in self._memo

    def recall(
        self, key: Hashable
    ) -> tuple[tuple[str, int], Representation, str, dict[str, str]] | None:
        return self._memo.get(key)

    def remember(
        self, key: Hashable, value: tuple[tuple[str, int], Representation, str, dict[str, str]]
    ) -> None:
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > self.max_responses:
                self._memo.popitem(last=False)

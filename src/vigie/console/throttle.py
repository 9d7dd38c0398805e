"""A growing refusal window after failed logins, per account name and per client address.

After `free` failures for a key (the name typed, or the address), further attempts for it are
refused without checking any password for 2, 4, 8, … seconds (doubling with each failure, at
most 15 minutes), counted from the last failure; a success clears the name's count. Refused
attempts do not lengthen the window. The name is counted whether or not an account has it, so
the refusals say nothing about which accounts exist.

The counts live in the rate limiter's store (`vigie.ratelimit`: Redis when configured), so every
process and host behind one address sees the same ones and a restart forgets nothing; with the
memory store (no Redis) each process counts on its own; when the store cannot be reached,
logins are heard (and `on_error` logs it) rather than the console failing. Only the store's
atomic counters are
used: failure number n of a key is `incr(count)`, and its time (the app's clock, so tests can
travel) is a counter of its own that no other failure writes. Names are kept as digests.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

from limits.storage import Storage

MAX_WAIT_SECONDS = 900.0
FORGET_AFTER_SECONDS = 3600.0  # a key with no failure for an hour starts again from zero
KEEP_SECONDS = 86400  # the store drops a key's counts a day after its first failure


@dataclass(frozen=True)
class Rule:
    """Failures allowed for a kind of key before the window opens."""

    prefix: str
    free: int


ACCOUNT = Rule("name:", free=3)
ADDRESS = Rule("addr:", free=10)  # an office behind one address: several people mistype


class LoginThrottle:
    def __init__(
        self, storage: Storage, prefix: str, on_error: Callable[[Exception], None]
    ) -> None:
        self._storage = storage
        self._prefix = f"{prefix}/login/"
        self._on_error = on_error

    def _key(self, rule: Rule, value: str) -> str:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self._prefix + rule.prefix + digest

    def keys(self, name: str, address: str | None) -> list[tuple[Rule, str]]:
        return [
            (ACCOUNT, self._key(ACCOUNT, name.strip().casefold()[:200])),
            (ADDRESS, self._key(ADDRESS, address or "unknown")),
        ]

    @staticmethod
    def window(rule: Rule, count: int) -> float:
        """Seconds refused after `count` failures: 0 up to `free`, then 2, 4, 8, …"""
        if count < rule.free:
            return 0.0
        return min(MAX_WAIT_SECONDS, 2.0 ** (count - rule.free + 1))

    def _last(self, key: str) -> tuple[int, float | None]:
        """The key's failure count and the time of its last failure (None: not written yet)."""
        count = self._storage.get(key + "/n")
        if not count:
            return 0, None
        at_ms = self._storage.get(f"{key}/at/{count}")
        return count, (at_ms / 1000 if at_ms else None)

    def wait(self, name: str, address: str | None, now: float) -> int:
        """Whole seconds before an attempt for this name from this address is heard (0: now)."""
        try:
            return self._wait(name, address, now)
        except Exception as error:  # noqa: BLE001 - any store failure: hear the attempt
            self._on_error(error)
            return 0

    def failed(self, name: str, address: str | None, now: float) -> None:
        try:
            self._failed(name, address, now)
        except Exception as error:  # noqa: BLE001 - any store failure: the login goes on
            self._on_error(error)

    def succeeded(self, name: str) -> None:
        try:
            self._storage.clear(self._key(ACCOUNT, name.strip().casefold()[:200]) + "/n")
        except Exception as error:  # noqa: BLE001 - any store failure: the login goes on
            self._on_error(error)

    def _wait(self, name: str, address: str | None, now: float) -> int:
        longest = 0.0
        for rule, key in self.keys(name, address):
            count, last = self._last(key)
            if count < rule.free:
                continue
            last = now if last is None else last  # a failure being counted right now
            longest = max(longest, last + self.window(rule, count) - now)
        return math.ceil(longest) if longest > 0 else 0

    def _failed(self, name: str, address: str | None, now: float) -> None:
        for _, key in self.keys(name, address):
            count, last = self._last(key)
            if count and last is not None and now - last > FORGET_AFTER_SECONDS:
                self._storage.clear(key + "/n")
            number = self._storage.incr(key + "/n", KEEP_SECONDS)
            at = f"{key}/at/{number}"
            self._storage.clear(at)  # left by an earlier count that was cleared
            self._storage.incr(at, KEEP_SECONDS, amount=int(now * 1000))
            self._storage.clear(f"{key}/at/{number - 1}")  # only the last time is read

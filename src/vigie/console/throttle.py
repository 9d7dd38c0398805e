"""A growing refusal window after failed logins, per account name and per client address.

After `free` failures for a key (the name typed, or the address), further attempts for it are
refused without checking any password for 2, 4, 8, … seconds (doubling with each failure, at
most 15 minutes), counted from the last failure; a success clears the name's count. Refused
attempts do not lengthen the window. The name is counted whether or not an account has it, so
the refusals say nothing about which accounts exist.

The counts live in this process's memory (this slice): each gunicorn worker counts on its own
and a restart forgets them. A shared store (the database, or Redis as the embeddable form's
limiter may use) is the next step when the console runs on several workers behind one address.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

MAX_WAIT_SECONDS = 900.0
FORGET_AFTER_SECONDS = 3600.0  # a key with no failure for an hour starts again from zero
MAX_KEYS = 50_000  # bounds the memory an attacker spraying names can make us use


@dataclass
class _Failures:
    count: int
    last_at: float


@dataclass(frozen=True)
class Rule:
    """Failures allowed for a kind of key before the window opens."""

    prefix: str
    free: int


ACCOUNT = Rule("name:", free=3)
ADDRESS = Rule("addr:", free=10)  # an office behind one address: several people mistype


class LoginThrottle:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}

    @staticmethod
    def keys(name: str, address: str | None) -> list[tuple[Rule, str]]:
        return [
            (ACCOUNT, ACCOUNT.prefix + name.strip().casefold()[:200]),
            (ADDRESS, ADDRESS.prefix + (address or "unknown")),
        ]

    @staticmethod
    def window(rule: Rule, count: int) -> float:
        """Seconds refused after `count` failures: 0 up to `free`, then 2, 4, 8, …"""
        if count < rule.free:
            return 0.0
        return min(MAX_WAIT_SECONDS, 2.0 ** (count - rule.free + 1))

    def wait(self, name: str, address: str | None, now: float) -> int:
        """Whole seconds before an attempt for this name from this address is heard (0: now)."""
        longest = 0.0
        with self._lock:
            for rule, key in self.keys(name, address):
                failures = self._failures.get(key)
                if failures is not None:
                    ends = failures.last_at + self.window(rule, failures.count)
                    longest = max(longest, ends - now)
        return math.ceil(longest) if longest > 0 else 0

    def failed(self, name: str, address: str | None, now: float) -> None:
        with self._lock:
            self._forget_old(now)
            for _, key in self.keys(name, address):
                failures = self._failures.get(key)
                if failures is None or now - failures.last_at > FORGET_AFTER_SECONDS:
                    self._failures[key] = _Failures(1, now)
                else:
                    failures.count += 1
                    failures.last_at = now

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(ACCOUNT.prefix + name.strip().casefold()[:200], None)

    def _forget_old(self, now: float) -> None:
        if len(self._failures) < MAX_KEYS:
            return
        for key in [k for k, f in self._failures.items() if now - f.last_at > MAX_WAIT_SECONDS]:
            del self._failures[key]
        if len(self._failures) >= MAX_KEYS:  # still full: keep the most recent half
            recent = sorted(self._failures.items(), key=lambda kv: kv[1].last_at)
            self._failures = dict(recent[len(recent) // 2 :])

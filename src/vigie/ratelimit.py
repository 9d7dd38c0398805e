"""Rate limits: per partner key and scope on the API, per client address on the pages.

One flask-limiter `Limiter` per app owns the storage of every count (`limits` storage: Redis
when `redis_url` is set, so that all processes and hosts share the counts; this process's
memory otherwise). Three users:

- the API: `charge(caller, scope)` runs right after a partner key is authenticated
  (`auth.require_partner`), one counter per key and scope over a fixed minute whose start is
  offset per key. It costs one storage call (an `INCR` on Redis), not flask-limiter's per-request
  hooks (~60 µs each on every request). Over the quota: a 429 problem document with
  `Retry-After`. Every charged answer carries the IETF `RateLimit-Policy` and `RateLimit`
  fields (draft-ietf-httpapi-ratelimit-headers-11: `"content:read";q=1200;w=60` and
  `"content:read";r=1187;t=42`; flask-limiter's own headers are the older `X-RateLimit-*`).
- the embeddable form: a flask-limiter limit on its blueprint (`embed.views`).
- the console's login: `address_wait(...)` (flask-limiter's strategy over the same storage)
  and the growing refusal window of `console.throttle`, whose counts live in this storage too.

When the store cannot be reached, requests are served (a limit protects the service; it must
not become its outage) and a warning is logged at most once a minute.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItemPerMinute
from limits.storage import Storage

from vigie.config import Config
from vigie.errors import Problem

log = logging.getLogger("vigie.ratelimit")

EXTENSION = "vigie.ratelimit"
WINDOW_SECONDS = 60
STORE_TIMEOUT_SECONDS = 0.5  # a slow store delays every request: give up on it quickly
WARN_EVERY_SECONDS = 60.0
CONTENT_READ, REPORT_WRITE = "content:read", "reports:write"


def wall_clock() -> float:
    """Seconds since the epoch: which fixed window a request falls in (tests pin it)."""
    return time.time()


class RateLimited(Problem):
    """429: a quota of this caller is used up for the current window."""

    status, slug = 429, "too-many-requests"
    summary = "Rate limit reached"
    meaning = (
        "This key (or, for the form and the console login, this address) has used up one of its "
        "quotas for the current window; nothing of this request was stored."
    )
    fix = (
        "Wait the number of seconds in Retry-After, then send the request again. The RateLimit "
        "and RateLimit-Policy headers of every answer tell how much of each quota is left."
    )


class PartnerKey(Protocol):
    @property
    def key_id(self) -> int: ...


@dataclass(frozen=True)
class Policy:
    """A quota per partner key: `quota` requests of one scope per `window` seconds."""

    name: str
    quota: int
    window: int = WINDOW_SECONDS

    @property
    def header(self) -> str:
        return f'"{self.name}";q={self.quota};w={self.window}'


@dataclass(frozen=True)
class Usage:
    """What is left of a policy's quota for this key, and for how long."""

    policy: Policy
    remaining: int
    reset_seconds: int

    @property
    def header(self) -> str:
        return f'"{self.policy.name}";r={self.remaining};t={self.reset_seconds}'


class _Warner:
    """Logs a store failure at most once per interval (never a stack per request)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = -math.inf

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < WARN_EVERY_SECONDS:
                return
            self._last = now
        log.warning(
            "rate-limit store unreachable: requests are served without limits",
            extra={"error": f"{type(error).__module__}.{type(error).__qualname__}"},
        )


@dataclass
class RateLimits:
    """This app's limiter, its policies per scope and its settings."""

    limiter: Limiter
    address: Callable[[], str]
    enabled: bool
    prefix: str
    policies: dict[str, Policy]
    console_logins_per_minute: int
    warner: _Warner

    @property
    def storage(self) -> Storage:
        return self.limiter.storage

    def policy(self, scope: str) -> Policy:
        return self.policies[scope]


def storage_uri(config: Config) -> str:
    """Where counts live: the explicit URI, else the shared Redis, else this process."""
    return config.ratelimit_storage_uri or config.redis_url or "memory://"


def client_address(proxy_hops: int) -> Callable[[], str]:
    """The client's address, as the outermost of `proxy_hops` trusted proxies saw it."""

    def key() -> str:
        if proxy_hops > 0:
            forwarded = request.headers.get("X-Forwarded-For", "").split(",")
            hops = [a.strip() for a in forwarded if a.strip()]
            if len(hops) >= proxy_hops:
                return hops[-proxy_hops]
        return request.remote_addr or "unknown"

    return key


def _policies(config: Config) -> dict[str, Policy]:
    other = config.ratelimit_partner_other_per_minute
    return {
        CONTENT_READ: Policy(CONTENT_READ, config.ratelimit_content_reads_per_minute),
        REPORT_WRITE: Policy(REPORT_WRITE, config.ratelimit_report_writes_per_minute),
        "reports:read": Policy("reports:read", other),
        "webhooks:manage": Policy("webhooks:manage", other),
    }


def init_app(app: Flask, config: Config) -> RateLimits:
    """Create this app's limiter and storage; add the RateLimit fields to charged answers."""
    address = client_address(config.ratelimit_proxy_hops)
    options: dict[str, Any] = {
        "key_prefix": config.ratelimit_key_prefix,  # Redis: this instance's keys only
        "socket_timeout": STORE_TIMEOUT_SECONDS,
        "socket_connect_timeout": STORE_TIMEOUT_SECONDS,
    }
    limiter = Limiter(
        address,
        storage_uri=storage_uri(config),
        storage_options=options,
        strategy="moving-window",
        key_prefix=config.ratelimit_key_prefix,
        in_memory_fallback_enabled=True,  # the form's limit, while the store is unreachable
    )
    # Its checks run only where a limit is declared (the form's blueprint), never before
    # every request: marked as installed, `init_app` opens the storage without adding the
    # extension's app-wide hooks (~60 µs a request).
    app.extensions.setdefault("limiter", set()).add(limiter)
    limiter.init_app(app)
    limits = RateLimits(
        limiter=limiter,
        address=address,
        enabled=config.ratelimit_enabled,
        prefix=config.ratelimit_key_prefix,
        policies=_policies(config),
        console_logins_per_minute=config.ratelimit_console_logins_per_minute,
        warner=_Warner(),
    )
    app.extensions[EXTENSION] = limits
    app.after_request(_advertise)
    return limits


def of(app: Flask | None = None) -> RateLimits:
    found: RateLimits = (app or current_app).extensions[EXTENSION]
    return found


def reset(app: Flask) -> None:
    """Forget every count of this app (tests start each with none)."""
    of(app).limiter.reset()


def charge(caller: PartnerKey, scope: str, cost: int = 1) -> None:
    """Count `cost` requests of `scope` for the caller's key; over its quota, a 429."""
    limits = of()
    if not limits.enabled:
        return
    policy = limits.policy(scope)
    # Each key's minute starts at its own second, so keys do not all refill (and retry) at once.
    window, into = divmod(wall_clock() + caller.key_id % policy.window, policy.window)
    key = f"api/{caller.key_id}/{scope}/{int(window)}"
    try:
        used = limits.storage.incr(key, policy.window, amount=cost)
    except Exception as error:  # noqa: BLE001 - any store failure: serve, do not fail
        limits.warner.failed(error)
        return
    usage = Usage(policy, max(0, policy.quota - used), max(1, math.ceil(policy.window - into)))
    g.ratelimit_usage = usage
    if used > policy.quota:
        refused = RateLimited(
            f"This key is over its quota of {policy.quota} requests needing {scope} per "
            f"{policy.window} seconds; retry in {usage.reset_seconds} seconds.",
            headers={"Retry-After": str(usage.reset_seconds)},
        )
        refused.extensions["violated-policies"] = [policy.name]  # the draft's problem member
        raise refused


def _advertise(response: Response) -> Response:
    usage: Usage | None = g.get("ratelimit_usage")
    if usage is not None:
        response.headers["RateLimit-Policy"] = usage.policy.header
        response.headers["RateLimit"] = usage.header
    return response


def address_wait(name: str, per_minute: int) -> int:
    """Count one request named `name` from the client's address over a moving minute:
    0 when it is within `per_minute`, else the whole seconds until one is allowed again."""
    limits = of()
    if not limits.enabled:
        return 0
    item = RateLimitItemPerMinute(per_minute)
    address = limits.address()
    strategy = limits.limiter.limiter
    try:
        if strategy.hit(item, limits.prefix, name, address):
            return 0
        reset_at, _ = strategy.get_window_stats(item, limits.prefix, name, address)
    except Exception as error:  # noqa: BLE001 - any store failure: serve, do not fail
        limits.warner.failed(error)
        return 0
    return max(1, min(WINDOW_SECONDS, math.ceil(reset_at - time.time())))


def storage_of(app: Flask) -> tuple[Storage, str, Callable[[Exception], None]]:
    """The store and key prefix other counters share (the console's failed logins), and what
    to call when it fails (a warning at most once a minute)."""
    limits = of(app)
    return limits.storage, limits.prefix, limits.warner.failed

"""The one place where configuration is read and the one place its defaults live.

Every key is a typed field of `Config` with its default below. A process reads, later
winning: those defaults, then its environment's own (`ENVIRONMENT_DEFAULTS`), then
`$VIGIE_CONFIG_DIR/<env>.toml` if that variable is set and the file exists, then `VIGIE_<KEY>`
environment variables, then explicit overrides (tests). Everything ships inside the package:
an installed Vigie runs from any folder with no file beside it. Each value is checked against
its field's type; an unknown key, an unknown `VIGIE_*` variable or a value of the wrong type
stops start-up with the key named (a mistyped key must never fall back silently to a default).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_args, get_type_hints

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "test", "production")
SECRET_FIELDS = ("secret_key", "data_key")
HIDDEN_FIELDS = (*SECRET_FIELDS, "metrics_token")  # never shown by repr (logs, tracebacks)
# VIGIE_* variables that are not configuration keys: where the config files are, the base URL
# the README's quickstart uses on the client side, and the test and benchmark harnesses'.
NOT_KEYS = ("VIGIE_CONFIG_DIR", "VIGIE_URL")
NOT_KEY_PREFIXES = ("VIGIE_TEST_", "VIGIE_BENCH_")


# What differs by environment, on top of the defaults of `Config`.
ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "development": {},
    "test": {"log_level": "WARNING"},
    "production": {"docs_enabled": False},
}


class ConfigError(RuntimeError):
    """Configuration that the process must not start with."""


@dataclass(frozen=True)
class Config:
    """Every setting, typed, with its default. docs/CONFIGURATION.md explains each one."""

    env: str = "development"  # development | test | production
    var_dir: str = "var"  # local state: SQLite file, development secrets
    database_url: str = ""  # empty: sqlite under var_dir (WAL)
    secret_key: str = field(default="", repr=False)  # blind indexes, tokens; dev: generated
    data_key: str = field(default="", repr=False)  # Fernet keys, comma-separated, newest first
    log_level: str = "INFO"
    docs_enabled: bool = True  # serve /docs (interactive reference)
    public_base_url: str = ""  # base of absolute links; empty: from the request
    max_body_bytes: int = 262144  # 256 KiB, larger bodies get 413 (chunked ones too)
    max_json_depth: int = 32  # arrays/objects nested deeper in a JSON body get 400
    idempotency_ttl_hours: int = 24  # Idempotency-Keys are kept (and replayed) this long
    idempotency_lease_seconds: int = 60  # in-flight claim; a dead process's key frees after it
    retention_days: int = 365
    sqlite_busy_timeout_ms: int = 5000
    # -- database faults (docs/CONFIGURATION.md): bounded waits, then 503 with Retry-After --
    db_connect_timeout_seconds: int = 5  # PostgreSQL: giving up on a new connection
    db_statement_timeout_ms: int = 10000  # PostgreSQL: a statement (lock waits included)
    db_pool_timeout_seconds: float = 5.0  # waiting for a free pooled connection
    db_retry_after_seconds: int = 5  # Retry-After on a 503 while the database is unavailable
    db_error_log_seconds: float = 10.0  # one log line per failure class per this interval
    webhook_allow_private: bool = False  # dev and tests only: loopback/private webhook URLs
    claim_minutes: int = 15  # triage: length of an operator's claim (lease) on a report
    console_refresh_seconds: int = 30  # the console's queue refreshes itself this often
    content_version_ttl_seconds: float = 2.0  # API workers re-check the content version this often
    content_max_age_seconds: int = 300  # Cache-Control max-age on content responses
    content_pull_flush_seconds: float = 30.0  # API workers write content pull counts this often
    # how a shelter network reaches MIPROF about a referral forwarded to it (docs/triage.md)
    shelter_network_contact: str = ""
    # -- rate limits (docs/partners.md "Rate limits", docs/CONFIGURATION.md) --
    redis_url: str = ""  # shared Redis: rate-limit counts and failed logins; empty: none
    ratelimit_enabled: bool = True  # false: no request is refused for its rate
    ratelimit_content_reads_per_minute: int = 1200  # per partner key (scope content:read)
    ratelimit_report_writes_per_minute: int = 600  # per partner key (scope reports:write)
    ratelimit_partner_other_per_minute: int = 300  # per key and scope, for the other scopes
    ratelimit_console_logins_per_minute: int = 20  # login attempts per client address
    form_submissions_per_minute: int = 10  # per client address, over a moving minute
    ratelimit_storage_uri: str = ""  # a limits storage URI; empty: redis_url, else memory://
    ratelimit_key_prefix: str = "vigie"  # names this instance's counts in a shared store
    ratelimit_proxy_hops: int = 0  # reverse proxies in front whose X-Forwarded-For is trusted
    # -- webhooks and the worker (docs/webhooks.md) --
    webhook_max_endpoints_per_partner: int = 10  # a partner's registered endpoints, at most
    # one entry per attempt: the 1st immediate, then waits; after the last the delivery fails
    webhook_retry_schedule: tuple[float, ...] = (
        0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0,
    )  # fmt: skip
    webhook_retry_jitter: float = 0.1  # each delay varies by ±10 %
    webhook_retry_after_max_seconds: float = 86400.0  # cap on a partner's Retry-After
    webhook_lease_seconds: float = 60.0  # a claimed delivery returns to the queue after this
    webhook_secret_overlap_hours: float = 24.0  # after a rotation the old secret signs this long
    webhook_disable_after_hours: float = 120.0  # an endpoint failing this long is disabled
    webhook_allowed_ports: tuple[int, ...] = (443, 8443)  # lifted by webhook_allow_private
    worker_delivery_threads: int = 64  # concurrent sends per worker process
    worker_per_endpoint_concurrency: int = 32  # at most this many of them to one endpoint
    worker_poll_seconds: float = 0.2  # idle wait between looks for new work
    worker_shutdown_grace_seconds: float = 20.0  # SIGTERM: time given to in-flight sends
    # -- metrics for operators (docs/DEPLOYMENT.md): off unless a token is set --
    metrics_token: str = field(default="", repr=False)  # Bearer token of /metrics; empty: off
    metrics_worker_host: str = "127.0.0.1"  # where `vigie worker` serves its own /metrics
    metrics_worker_port: int = 0  # 0: the worker serves no metrics

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'***' if f.name in HIDDEN_FIELDS else getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"Config({shown})"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def data_keys(self) -> list[str]:
        return [k.strip() for k in self.data_key.split(",") if k.strip()]

    def get(self, key: str) -> Any:
        """A setting by name; an unknown name is an error, never a silent default."""
        if key not in KEYS:
            raise ConfigError(f"unknown configuration key {key!r}")
        return getattr(self, key)


KEYS: dict[str, Any] = get_type_hints(Config)  # key -> its type


def defaults() -> dict[str, Any]:
    """Every key with its default value (docs and tests list them from here)."""
    return {f.name: f.default for f in fields(Config) if f.default is not MISSING}


def config_dir() -> Path | None:
    """Where the operator's per-environment TOML files are: VIGIE_CONFIG_DIR, or none (never a
    folder guessed from the working directory or the code's location)."""
    explicit = os.environ.get("VIGIE_CONFIG_DIR")
    if not explicit:
        return None
    if not Path(explicit).is_dir():
        raise ConfigError(f"VIGIE_CONFIG_DIR: {explicit} is not a directory")
    return Path(explicit)


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


def _parse_env(raw: str, kind: Any) -> Any:
    """A value from the environment, as the key's type (lists: JSON array or comma-separated)."""
    if kind is bool:
        return _parse_bool(raw)
    if kind in (int, float, str):
        return kind(raw)
    text = raw.strip()
    items = json.loads(text) if text.startswith("[") else [p for p in text.split(",") if p.strip()]
    return _check(items, kind)


def _check(value: Any, kind: Any) -> Any:
    """`value` (from TOML, the environment or an override) as the key's type, or ValueError."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"expected {kind.__name__}, got {value!r}")
        return value
    (item, _) = get_args(kind)  # tuple[float, ...] -> float
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of {item.__name__}, got {value!r}")
    return tuple(_check(item(v) if isinstance(v, str) else v, item) for v in value)


def _checked(values: dict[str, Any], source: str = "") -> dict[str, Any]:
    """Each value of a TOML file or of the overrides as its key's type; unknown keys refused."""
    checked = {}
    for key, value in values.items():
        if key not in KEYS:
            raise ConfigError(f"{source}unknown configuration key {key!r}")
        try:
            checked[key] = _check(value, KEYS[key])
        except ValueError as exc:
            raise ConfigError(f"{source}{key}: {exc}") from None
    return checked


def _from_environment() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in os.environ.items():
        if not name.startswith("VIGIE_") or name in NOT_KEYS or name.startswith(NOT_KEY_PREFIXES):
            continue
        key = name.removeprefix("VIGIE_").lower()
        if key not in KEYS:
            raise ConfigError(f"{name} is not a Vigie setting (see docs/CONFIGURATION.md)")
        try:
            values[key] = _parse_env(raw, KEYS[key])
        except (ValueError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return values


def load_config(overrides: dict[str, Any] | None = None) -> Config:
    environment = _from_environment()
    given = _checked(overrides or {})
    env = given.get("env") or environment.get("env") or Config.env
    if env not in ENVIRONMENTS:
        raise ConfigError(f"VIGIE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    values: dict[str, Any] = dict(ENVIRONMENT_DEFAULTS[env])
    directory = config_dir()
    path = directory / f"{env}.toml" if directory is not None else None
    if path is not None and path.is_file():
        values |= _checked(tomllib.loads(path.read_text("utf-8")), f"{path.name}: ")
    values |= environment | given
    values["env"] = env
    return _with_secrets(Config(**values))


def _with_secrets(config: Config) -> Config:
    """Production refuses to start without secrets; development keeps generated ones in var/."""
    missing = [name for name in SECRET_FIELDS if not getattr(config, name)]
    if not missing:
        _check_data_keys(config.data_keys)
        return config
    if config.is_production:
        names = " and ".join(f"VIGIE_{name.upper()}" for name in missing)
        raise ConfigError(f"{names} must be set in production")
    generated: dict[str, Any] = {}
    var = Path(config.var_dir)
    var.mkdir(parents=True, exist_ok=True)
    for name in missing:
        path = var / name
        if path.is_file():
            generated[name] = path.read_text("utf-8").strip()
            continue
        value = Fernet.generate_key().decode() if name == "data_key" else secrets.token_urlsafe(48)
        path.write_text(value + "\n", "utf-8")
        path.chmod(0o600)
        generated[name] = value
        log.warning("generated a development %s in %s; never use it in production", name, path)
    result = replace(config, **generated)
    _check_data_keys(result.data_keys)
    return result


def _check_data_keys(keys: list[str]) -> None:
    for key in keys:
        try:
            if len(base64.urlsafe_b64decode(key)) != 32:
                raise ValueError
        except ValueError:
            raise ConfigError(
                "VIGIE_DATA_KEY must be Fernet keys (url-safe base64 of 32 bytes), comma-separated"
            ) from None

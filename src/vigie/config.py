"""The one place where configuration is read: config/default.toml, then
config/<env>.toml, then VIGIE_* environment variables, then explicit overrides."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "test", "production")
SECRET_FIELDS = ("secret_key", "data_key")


class ConfigError(RuntimeError):
    """Configuration that the process must not start with."""


@dataclass(frozen=True)
class Config:
    env: str = "development"
    var_dir: str = "var"
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    data_key: str = field(default="", repr=False)
    log_level: str = "INFO"
    docs_enabled: bool = True
    public_base_url: str = ""
    max_body_bytes: int = 262144
    idempotency_ttl_hours: int = 24
    retention_days: int = 365
    sqlite_busy_timeout_ms: int = 5000
    webhook_allow_private: bool = False
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'***' if f.name in SECRET_FIELDS else getattr(self, f.name)!r}"
            for f in fields(self)
            if f.name != "extra"
        )
        return f"Config({shown})"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def data_keys(self) -> list[str]:
        return [k.strip() for k in self.data_key.split(",") if k.strip()]

    def get(self, key: str, default: Any = None) -> Any:
        """Keys that later features add to the TOML files without a dataclass field."""
        if key in {f.name for f in fields(self)}:
            return getattr(self, key)
        return self.extra.get(key, default)


def config_dir() -> Path:
    explicit = os.environ.get("VIGIE_CONFIG_DIR")
    candidates = [Path(explicit)] if explicit else []
    candidates += [Path(__file__).resolve().parents[2] / "config", Path.cwd() / "config"]
    for candidate in candidates:
        if (candidate / "default.toml").is_file():
            return candidate
    raise ConfigError("config/default.toml not found; set VIGIE_CONFIG_DIR")


def _coerce(value: str, like: Any) -> Any:
    if isinstance(like, bool):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"expected a boolean, got {value!r}")
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def load_config(overrides: dict[str, Any] | None = None) -> Config:
    directory = config_dir()
    values: dict[str, Any] = tomllib.loads((directory / "default.toml").read_text("utf-8"))
    env = (overrides or {}).get("env") or os.environ.get("VIGIE_ENV") or values.get("env")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"VIGIE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    env_file = directory / f"{env}.toml"
    if env_file.is_file():
        values.update(tomllib.loads(env_file.read_text("utf-8")))
    for key, default in list(values.items()):
        raw = os.environ.get(f"VIGIE_{key.upper()}")
        if raw is not None:
            try:
                values[key] = _coerce(raw, default)
            except (ValueError, ConfigError) as exc:
                raise ConfigError(f"VIGIE_{key.upper()}: {exc}") from None
    values.update(overrides or {})
    values["env"] = env
    known = {f.name for f in fields(Config)} - {"extra"}
    extra = {k: v for k, v in values.items() if k not in known}
    config = Config(**{k: v for k, v in values.items() if k in known}, extra=extra)
    return _with_secrets(config)


def _with_secrets(config: Config) -> Config:
    """Production refuses to start without secrets; development keeps generated ones in var/."""
    missing = [name for name in SECRET_FIELDS if not getattr(config, name)]
    if not missing:
        _check_data_keys(config.data_keys)
        return config
    if config.is_production:
        names = " and ".join(f"VIGIE_{name.upper()}" for name in missing)
        raise ConfigError(f"{names} must be set in production")
    generated: dict[str, str] = {}
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
    merged = {f.name: getattr(config, f.name) for f in fields(config)} | generated
    result = Config(**merged)
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

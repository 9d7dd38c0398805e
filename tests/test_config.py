"""Configuration: production refuses to start without its secrets; development makes its own."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from vigie.config import ConfigError, load_config

VIGIE = str(Path(sys.executable).with_name("vigie"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("VIGIE_") and name != "VIGIE_CONFIG_DIR":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, ["VIGIE_SECRET_KEY", "VIGIE_DATA_KEY"]),
        ({"VIGIE_SECRET_KEY": "s" * 40}, ["VIGIE_DATA_KEY"]),
        ({"VIGIE_DATA_KEY": Fernet.generate_key().decode()}, ["VIGIE_SECRET_KEY"]),
    ],
)
def test_production_refuses_to_start_and_names_what_is_missing(
    monkeypatch, tmp_path, present, missing
):
    monkeypatch.setenv("VIGIE_ENV", "production")
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_config({"var_dir": str(tmp_path / "var")})
    message = str(refused.value)
    for name in missing:
        assert name in message
    for name in present:
        assert name not in message
    assert not (tmp_path / "var" / "secret_key").exists()  # nothing generated in production


def test_production_starts_with_both_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_ENV", "production")
    monkeypatch.setenv("VIGIE_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("VIGIE_DATA_KEY", Fernet.generate_key().decode())
    config = load_config({"var_dir": str(tmp_path / "var")})
    assert config.is_production
    assert config.docs_enabled is False  # /docs is off in production unless enabled
    assert "s" * 40 not in repr(config)


def test_production_rejects_a_malformed_data_key(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_ENV", "production")
    monkeypatch.setenv("VIGIE_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("VIGIE_DATA_KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match="VIGIE_DATA_KEY"):
        load_config({"var_dir": str(tmp_path / "var")})


def test_vigie_commands_refuse_to_start_without_a_traceback(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("VIGIE_") or k == "VIGIE_CONFIG_DIR"
    }
    env |= {"VIGIE_ENV": "production", "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for command in (["db", "upgrade"], ["serve", "--port", "1"]):
        done = subprocess.run(
            [VIGIE, *command], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 1, done.stderr
        assert "VIGIE_SECRET_KEY and VIGIE_DATA_KEY must be set in production" in done.stderr
        assert "Traceback" not in done.stderr


def test_development_generates_secrets_once_into_var_with_a_warning(tmp_path, caplog):
    var = tmp_path / "var"
    with caplog.at_level(logging.WARNING, logger="vigie.config"):
        first = load_config({"var_dir": str(var)})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("never use it in production" in w for w in warnings)
    assert first.secret_key not in " ".join(warnings)
    for name in ("secret_key", "data_key"):
        path = var / name
        assert path.stat().st_mode & 0o777 == 0o600
    Fernet(first.data_keys[0].encode())  # a usable key

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vigie.config"):
        second = load_config({"var_dir": str(var)})
    assert (second.secret_key, second.data_key) == (first.secret_key, first.data_key)
    assert not caplog.records


def test_environment_variables_override_any_key_with_its_type(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_MAX_BODY_BYTES", "1024")
    monkeypatch.setenv("VIGIE_DOCS_ENABLED", "false")
    monkeypatch.setenv("VIGIE_IDEMPOTENCY_LEASE_SECONDS", "5")
    config = load_config({"var_dir": str(tmp_path / "var")})
    assert config.max_body_bytes == 1024
    assert config.docs_enabled is False
    assert config.get("idempotency_lease_seconds") == 5
    monkeypatch.setenv("VIGIE_DOCS_ENABLED", "maybe")
    with pytest.raises(ConfigError, match="VIGIE_DOCS_ENABLED"):
        load_config({"var_dir": str(tmp_path / "var")})


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("VIGIE_ENV", "staging")
    with pytest.raises(ConfigError, match="VIGIE_ENV"):
        load_config()

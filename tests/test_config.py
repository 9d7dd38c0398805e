"""Configuration: production refuses to start without its secrets; development makes its own."""

from __future__ import annotations

import logging
import os
import re
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


def test_a_mistyped_variable_stops_start_up_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_WEBHOOK_RETRY_SHEDULE", "0,5")  # typo: SCHEDULE
    with pytest.raises(ConfigError, match="VIGIE_WEBHOOK_RETRY_SHEDULE is not a Vigie setting"):
        load_config({"var_dir": str(tmp_path / "var")})


def test_variables_that_are_not_settings_are_left_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_URL", "http://127.0.0.1:8000")  # the README quickstart's client side
    monkeypatch.setenv("VIGIE_TEST_SOMETHING", "1")
    assert load_config({"var_dir": str(tmp_path / "var")}).env == "development"


@pytest.mark.parametrize(
    ("name", "raw", "key", "expected"),
    [
        ("VIGIE_WEBHOOK_ALLOWED_PORTS", "443, 9443", "webhook_allowed_ports", (443, 9443)),
        ("VIGIE_WEBHOOK_ALLOWED_PORTS", "[8443]", "webhook_allowed_ports", (8443,)),
        ("VIGIE_WEBHOOK_RETRY_SCHEDULE", "0,0.2", "webhook_retry_schedule", (0.0, 0.2)),
        ("VIGIE_WORKER_POLL_SECONDS", "1", "worker_poll_seconds", 1.0),
        ("VIGIE_CLAIM_MINUTES", "20", "claim_minutes", 20),
    ],
)
def test_each_key_is_read_as_its_type(monkeypatch, tmp_path, name, raw, key, expected):
    monkeypatch.setenv(name, raw)
    value = getattr(load_config({"var_dir": str(tmp_path / "var")}), key)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("VIGIE_CLAIM_MINUTES", "fifteen"),
        ("VIGIE_CLAIM_MINUTES", "1.5"),
        ("VIGIE_WEBHOOK_ALLOWED_PORTS", "443,https"),
        ("VIGIE_WORKER_POLL_SECONDS", "soon"),
    ],
)
def test_a_value_of_the_wrong_type_stops_start_up_naming_it(monkeypatch, tmp_path, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=name):
        load_config({"var_dir": str(tmp_path / "var")})


def test_config_files_may_only_hold_known_keys_of_the_right_type(monkeypatch, tmp_path):
    directory = tmp_path / "conf"
    directory.mkdir()
    monkeypatch.setenv("VIGIE_CONFIG_DIR", str(directory))
    (directory / "development.toml").write_text('claim_minutes = 20\nlog_level = "DEBUG"\n')
    config = load_config({"var_dir": str(tmp_path / "var")})
    assert (config.claim_minutes, config.log_level) == (20, "DEBUG")
    (directory / "development.toml").write_text("claim_minuts = 20\n")
    with pytest.raises(
        ConfigError, match=re.escape("development.toml: unknown configuration key 'claim_minuts'")
    ):
        load_config({"var_dir": str(tmp_path / "var")})
    (directory / "development.toml").write_text('claim_minutes = "20"\n')
    with pytest.raises(ConfigError, match=re.escape("development.toml: claim_minutes")):
        load_config({"var_dir": str(tmp_path / "var")})


def test_unknown_keys_are_refused_everywhere(tmp_path):
    with pytest.raises(ConfigError, match="claim_minuts"):
        load_config({"var_dir": str(tmp_path / "var"), "claim_minuts": 20})
    config = load_config({"var_dir": str(tmp_path / "var")})
    assert config.get("claim_minutes") == 15
    with pytest.raises(ConfigError, match="claim_minuts"):
        config.get("claim_minuts")


def test_the_cli_names_a_mistyped_variable_without_a_traceback(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("VIGIE_") or k == "VIGIE_CONFIG_DIR"
    }
    env |= {"VIGIE_VAR_DIR": str(tmp_path / "var"), "VIGIE_DATABSE_URL": "sqlite://"}
    done = subprocess.run(
        [VIGIE, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "VIGIE_DATABSE_URL is not a Vigie setting" in done.stderr
    assert "Traceback" not in done.stderr

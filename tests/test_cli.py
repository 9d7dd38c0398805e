"""The `vigie` command itself: help that touches nothing, Vigie's commands only, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from vigie.cli import main

VIGIE = str(Path(sys.executable).with_name("vigie"))
FLASK_OWN = ("--app", "--env-file", "--version", "FLASK_")


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    return env | settings


def _vigie(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIGIE, *args],
        cwd=cwd,
        env=_env(**settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_every_command(command, (*prefix, name)))
    return found


def test_vigie_help_lists_vigie_commands_only_and_writes_nothing(tmp_path):
    done = _vigie(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands:\n", 1)[1]
    names = {line.split()[0] for line in listed.splitlines() if line.startswith("  ")}
    assert names == set(main.commands)  # no run, shell or routes
    assert "--debug" in done.stdout
    for flask_own in FLASK_OWN:
        assert flask_own not in done.stdout
    assert list(tmp_path.iterdir()) == []
    assert done.stderr == ""


def test_every_subcommand_help_writes_nothing(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("VIGIE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    commands = _every_command(main)
    assert len(commands) > 25
    for command in commands:
        result = CliRunner().invoke(main, [*command, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
        assert "Usage: main " in result.output or "Usage: " in result.output
        for flask_own in ("--app", "--env-file"):
            assert flask_own not in result.output, command
    assert list(tmp_path.iterdir()) == []  # no var/, no generated secret, no database


@pytest.mark.parametrize(
    "command",
    [("partner", "list"), ("serve", "--port", "1")],
)
def test_a_command_on_a_database_not_migrated_says_so_in_one_line(tmp_path, command):
    done = _vigie(tmp_path, *command, VIGIE_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if not line.startswith("generated a")]
    assert lines == ["Error: the database is not migrated: run vigie db upgrade first"]


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    unreachable = {"VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"}
    done = _vigie(tmp_path, "partner", "list", **unreachable)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert "OperationalError" in line
    assert "--debug" in line

    debug = _vigie(tmp_path, "--debug", "partner", "list", **unreachable)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr

"""The built wheel, installed in a fresh virtual environment, runs from an empty folder with
only VIGIE_DATABASE_URL set: nothing of the checkout (config files, migrations, templates) is
needed beside it.

To stay fast and work offline, the fresh environment gets Vigie's dependencies from the
running one (a .pth file naming its site-packages) and the wheel itself with `--no-deps`;
the test checks that `vigie` is imported from the wheel, never from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from doc_blocks import ROOT
from live import free_port

pytestmark = pytest.mark.slow


def _clean_env() -> dict[str, str]:
    """No VIGIE_* setting, and no PYTHONPATH that would show the checkout's sources."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "PYTHON"))}


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("env", _clean_env())
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, check=False, **kwargs
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _wheel(tmp_path: Path) -> Path:
    """The wheel, built from a copy of the sources (the build leaves nothing in the checkout)."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("src", "integrations"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", source)
    (wheel,) = (tmp_path / "dist").glob("vigie-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel)
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # The dependencies: the running environment's packages, after the fresh one's own.
    Path(site.stdout.strip(), "dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    return venv


def test_the_wheel_installs_and_runs_from_an_empty_folder(tmp_path):
    venv = _fresh_venv(tmp_path, _wheel(tmp_path))
    folder = tmp_path / "empty"
    folder.mkdir()
    env = _clean_env() | {"VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'vigie.db'}"}
    vigie = venv / "bin" / "vigie"

    where = _run(venv / "bin" / "python", "-c", "import vigie; print(vigie.__file__)", env=env)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's, not the checkout's

    assert "database is up to date" in _run(vigie, "db", "upgrade", cwd=folder, env=env).stdout
    created = _run(vigie, "partner", "create", "--name", "Ailleurs", "--json", cwd=folder, env=env)
    key = json.loads(created.stdout)["api_key"]

    port = free_port()
    with (folder / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [str(vigie), "serve", "--port", str(port), "--workers", "1"],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as health:
                    assert health.status == 200
                    break
            except OSError:
                assert server.poll() is None, (folder / "serve.log").read_text()
                assert time.monotonic() < deadline, (folder / "serve.log").read_text()
                time.sleep(0.2)
        # The key made by the CLI works on the server: both read the same generated secrets.
        request = urllib.request.Request(
            f"{url}/v1/reports", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reports:
            assert reports.status == 200
        with urllib.request.urlopen(f"{url}/docs", timeout=10) as docs:  # templates, static
            assert docs.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Development's generated secrets went to var/ in the folder it ran in, nowhere else.
    assert sorted(p.name for p in folder.iterdir()) == ["serve.log", "var"]

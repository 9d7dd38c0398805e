"""The partner guide's section on the form, its shell blocks run as written on a live server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from live import vigie_server

DOCS = Path(__file__).resolve().parents[2] / "docs"
TITLE = "## The embeddable form and the button"
pytestmark = pytest.mark.slow


def _section() -> str:
    """The partner guide's section on the form."""
    guide = (DOCS / "partners.md").read_text("utf-8")
    assert TITLE in guide
    return guide.split(TITLE, 1)[1].split("\n## ", 1)[0]


def test_the_form_section_runs_as_written(tmp_path):
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the guide's examples")
    section = _section()
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    shown = re.search(r"```\n(HTTP/1\.1 .*?)```", section, flags=re.S).group(1).splitlines()
    with vigie_server(tmp_path, workers=1) as server:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "".join(blocks)],
            cwd=tmp_path,
            env={**server.env, "VIGIE_URL": server.url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    printed = [line.rstrip("\r") for line in done.stdout.splitlines() if line.startswith("HTTP")]
    printed += [
        line.rstrip("\r")
        for line in done.stdout.splitlines()
        if line.lower().startswith(("content-type:", "content-security-policy:"))
    ]
    assert sorted(printed) == sorted(shown)
    assert 'lang="fr"' in (tmp_path / "form.html").read_text("utf-8")

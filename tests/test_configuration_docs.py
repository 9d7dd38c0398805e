"""Every configuration key has a line in docs/CONFIGURATION.md, so operators can find it."""

from __future__ import annotations

from pathlib import Path

from vigie.config import defaults

ROOT = Path(__file__).resolve().parents[1]


def test_every_default_key_is_documented():
    keys = defaults()
    documented = (ROOT / "docs" / "CONFIGURATION.md").read_text("utf-8")
    missing = [key for key in keys if f"| `{key}` |" not in documented]
    assert missing == []

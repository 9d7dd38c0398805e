"""Content fixtures: an editor, the shipped seed, and a fresh per-process content memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from content_payloads import item_body
from vigie.content import importing
from vigie.content.http_cache import content_runtime


@pytest.fixture
def editor(make_staff):
    return make_staff("editor")


@pytest.fixture
def seeded(app: Flask) -> dict[str, int]:
    counts = importing.load_seed(app.extensions["vigie"])
    content_runtime(app).cache.invalidate()
    return counts


@pytest.fixture
def publish(client, editor) -> Callable[..., dict[str, Any]]:
    """Create and publish an item as the editor; returns the editor view."""

    def make(**changes: Any) -> dict[str, Any]:
        created = client.post(
            "/v1/admin/content", json=item_body(**changes), headers=editor.headers
        )
        assert created.status_code == 201, created.get_json()
        done = client.post(
            f"/v1/admin/content/{created.get_json()['id']}/publish", headers=editor.headers
        )
        assert done.status_code == 200, done.get_json()
        return done.get_json()

    return make

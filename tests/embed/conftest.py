"""The form's submissions are counted per client address: each test starts with none."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_submissions_counted(app):
    app.extensions["vigie.embed.limiter"].reset()

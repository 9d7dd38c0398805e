"""Static assets of the interactive reference at /docs (swagger-ui-dist 5, vendored).

Served locally so /docs works on a closed network; off in production unless enabled.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, send_from_directory

ASSETS = Path(__file__).parent / "static" / "swagger-ui"


def _asset(filename: str) -> Response:
    response = send_from_directory(ASSETS, filename, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def register(app: Flask) -> None:
    app.add_url_rule("/static/swagger-ui/<path:filename>", "swagger_ui_asset", _asset)

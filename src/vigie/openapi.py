"""The exported OpenAPI document (committed as openapi/openapi.json)."""

from __future__ import annotations

import json

from flask import Flask


def export(app: Flask) -> str:
    spec = app.extensions["vigie.api"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

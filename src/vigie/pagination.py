"""The one pagination style: opaque cursor + `Link: <...>; rel="next"`."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, fields, validate

from vigie.errors import BadRequest, field_error

MAX_LIMIT = 100


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(1, 512))


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The position a cursor points at; 400 if it was not made by us for this listing."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(position, dict) or set(position) != set(keys):
            raise ValueError
    except ValueError:
        raise malformed_cursor() from None
    return position


def malformed_cursor() -> BadRequest:
    return BadRequest(
        "The cursor is malformed.",
        errors=[field_error("cursor", "Malformed cursor.", location="query")],
    )


def next_link(cursor: str | None) -> dict[str, str]:
    """Headers announcing the next page, keeping the request's other query parameters."""
    if cursor is None:
        return {}
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    query = urlencode([*args, ("cursor", cursor)])
    return {"Link": f'<{request.base_url}?{query}>; rel="next"'}

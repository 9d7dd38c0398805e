"""Marshmallow validators shared by several domains' schemas.

Each guards a value the database or datetime arithmetic cannot take, so a caller
gets a 422 naming the field instead of a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields

from vigie import clock

NUL_DETAIL = "Text must not contain the NUL character (U+0000)."


def no_nul(value: str) -> None:
    """PostgreSQL's text type cannot hold U+0000, not even in a WHERE clause."""
    if "\x00" in value:
        raise ValidationError(NUL_DETAIL)


def in_range(value: datetime) -> None:
    """An instant far enough from datetime's limits to convert to UTC and shift."""
    if not clock.in_range(value):
        raise ValidationError(clock.OUT_OF_RANGE)


INSTANT_EXPECTED = (
    "a date and time with an offset, Z or +01:00, e.g. 2026-11-20T21:40:00Z or "
    "2026-11-20T22:40:00+01:00; in a query string, URL-encode the + as %2B"
)


def instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 date and time with its offset (query filters such as `updated_since`),
    whose errors say how to write one: an unencoded + in a URL arrives as a space."""
    return fields.AwareDateTime(
        format="iso",
        error_messages={
            "invalid": f"Not a valid date and time: expected {INSTANT_EXPECTED}.",
            "invalid_awareness": f"The date and time has no offset: expected {INSTANT_EXPECTED}.",
        },
        **kwargs,
    )

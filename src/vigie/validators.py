"""Marshmallow validators shared by several domains' schemas.

Each guards a value the database or datetime arithmetic cannot take, so a caller
gets a 422 naming the field instead of a 500.
"""

from __future__ import annotations

from datetime import datetime

from marshmallow import ValidationError

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

"""The one pagination style: keyset over an opaque cursor, and `Link: <...>; rel="next"`.

A list declares its sort key once as a `Keyset` (the columns it is ordered by, each with
the letter it is stored under in the cursor and how that value is read back); `Keyset.page`
then filters past the cursor, fetches one row more than the page and encodes the next
cursor. Lists served from memory (the content catalogue) use the same `Keyset` to decode
and encode, so every cursor of the API is made and checked in one place.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, fields, validate
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.orm import Session

from vigie.errors import BadRequest, field_error

MAX_LIMIT = 100
T = TypeVar("T")


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(1, 512))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def _aware(value: Any) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("naive instant in a cursor")
    return when


# How a cursor value is read back, by the kind of the column it stands for.
_READERS: dict[type, Callable[[Any], Any]] = {int: int, str: str, datetime: _aware}


@dataclass(frozen=True)
class Key:
    """One column of a sort key: its letter in the cursor, the column, the Python kind."""

    letter: str
    column: Any  # an ORM attribute or column (ColumnElement); Any keeps mypy out of SQL typing
    kind: type = int


class Keyset:
    """A list's sort key; ascending unless `descending` (then every column descends)."""

    def __init__(self, *keys: Key, descending: bool = False) -> None:
        self.keys = keys
        self.letters = tuple(k.letter for k in keys)
        self.descending = descending

    def encode(self, values: Sequence[Any]) -> str:
        position = {
            k.letter: v.isoformat() if isinstance(v, datetime) else v
            for k, v in zip(self.keys, values, strict=True)
        }
        raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The sort-key values a cursor points after; 400 if we did not make it for this list."""
        if cursor is None:
            return None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            position = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(position, dict) or set(position) != set(self.letters):
                raise ValueError
            values = []
            for key in self.keys:
                value = position[key.letter]
                if isinstance(value, bool) or not isinstance(value, str | int):
                    raise ValueError
                values.append(_READERS[key.kind](value))
        except (ValueError, TypeError):
            raise malformed_cursor() from None
        return tuple(values)

    def after(self, values: tuple[Any, ...]) -> ColumnElement[bool]:
        columns = [k.column for k in self.keys]
        if len(columns) == 1:
            column, value = columns[0], values[0]
            return column < value if self.descending else column > value  # type: ignore[no-any-return]
        row = tuple_(*columns)
        return row < values if self.descending else row > values

    def order_by(self) -> list[Any]:
        return [k.column.desc() if self.descending else k.column for k in self.keys]

    def page(
        self,
        session: Session,
        query: Select[Any],
        *,
        limit: int,
        cursor: str | None,
        scalars: bool = True,
        key_of: Callable[[Any], Sequence[Any]] | None = None,
    ) -> Page[Any]:
        """Run `query` for the page after `cursor`: rows past it, in key order, `limit` at most.

        Rows are ORM objects (`scalars`) or result rows; `key_of` reads the sort-key values of
        a row when they are not its attributes named like the key's columns.
        """
        position = self.decode(cursor)
        if position is not None:
            query = query.where(self.after(position))
        query = query.order_by(*self.order_by()).limit(limit + 1)
        result = session.scalars(query) if scalars else session.execute(query)
        rows = list(result)
        if len(rows) <= limit:
            return Page(rows, None)
        rows = rows[:limit]
        last = rows[-1]
        values = key_of(last) if key_of else [getattr(last, k.column.key) for k in self.keys]
        return Page(rows, self.encode(values))


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

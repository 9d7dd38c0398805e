"""Request bodies: read only when an operation needs them, within limits, parsed in one place.

- `BodyLimit` wraps the WSGI app: whatever the transfer encoding (Content-Length or
  chunked), reading more than `max_body_bytes` raises 413 and a body the server cannot
  decode (a bad chunk size) raises 400 `malformed-body`, never a 500 nor a cut body.
- `load_json` is the one JSON parser of request bodies (the API's arguments parser uses
  it): bounded nesting (`max_json_depth`, 400 `json-too-deep`) and no U+0000 in any string
  or key (422 naming the field). It runs when a view parses its body, that is after the
  view's decorators authenticated the caller: nothing reads a body before that.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import flask
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from vigie.errors import (
    INVALID_JSON,
    BadRequest,
    Invalid,
    JsonTooDeep,
    MalformedBody,
    field_error,
)
from vigie.validators import NUL_DETAIL


class BoundedInput(io.RawIOBase):
    """`wsgi.input` that refuses to yield more than `limit` bytes (413) and turns the server's
    decoding errors into a 400. Werkzeug's own limit stops at the limit without saying so
    when the body is chunked; this one reads one byte more to know."""

    def __init__(self, stream: Any, limit: int, declared: int | None) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._declared = declared
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._declared is not None and self._declared > self._limit:
            raise RequestEntityTooLarge()
        wanted = min(len(buffer), self._limit + 1 - self._read)
        try:
            data = self._stream.read(wanted)
        except HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure to decode the body is the client's
            raise MalformedBody("The request body could not be read: " + _reason(exc)) from None
        self._read += len(data)
        if self._read > self._limit:
            raise RequestEntityTooLarge()
        buffer[: len(data)] = data
        return len(data)


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    if "Chunk" in name:
        return "a chunk of Transfer-Encoding: chunked is malformed."
    return "the connection ended before the body did."


class BodyLimit:
    """WSGI middleware: every request's input is a `BoundedInput` of `limit` bytes."""

    def __init__(self, app: Callable[..., Iterable[bytes]], limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raw = environ.get("CONTENT_LENGTH", "")
        declared = int(raw) if raw.isdigit() else None
        environ["wsgi.input"] = BoundedInput(environ["wsgi.input"], self.limit, declared)
        if declared is None:
            # The stream ends where the server says (gunicorn decodes chunks and sets this);
            # Werkzeug then reads it without a length, and BoundedInput bounds it.
            environ.setdefault("wsgi.input_terminated", True)
        return self.app(environ, start_response)


def depth(value: Any) -> int:
    """How many arrays and objects nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children: Iterable[Any] = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse(data: bytes, *, max_depth: int) -> Any:
    """`data` as JSON, or the 400/422 problem saying why not."""
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:  # the C parser stops at Python's recursion limit, cleanly
        value, too_deep = None, True
    except (UnicodeDecodeError, ValueError):  # ValueError: also an integer of 5,000 digits
        raise BadRequest(INVALID_JSON, errors=[field_error("(body)", INVALID_JSON)]) from None
    else:
        cheap = data.count(b"[") + data.count(b"{") <= max_depth
        too_deep = not cheap and depth(value) > max_depth
    if too_deep:
        detail = f"The JSON body nests arrays or objects deeper than {max_depth} levels."
        raise JsonTooDeep(detail, errors=[field_error("(body)", detail)])
    if b"\\u0000" in data:
        field = nul_field(value, "")
        if field is not None:
            raise Invalid(NUL_DETAIL, errors=[field_error(field, NUL_DETAIL)])
    return value


def nul_field(value: Any, prefix: str) -> str | None:
    """The dotted path of the first string (or key) holding NUL, if any."""
    if isinstance(value, str):
        return (prefix or "(body)") if "\x00" in value else None
    if isinstance(value, list):
        items = ((f"{prefix}[{i}]", item) for i, item in enumerate(value))
    elif isinstance(value, dict):
        items = ((f"{prefix}.{k}" if prefix else str(k), item) for k, item in value.items())
    else:
        return None
    for name, item in items:
        if "\x00" in name:
            return name
        found = nul_field(item, name)
        if found is not None:
            return found
    return None


_UNREAD = object()


def load_json() -> Any:
    """This request's JSON body, parsed once (see `parse`); `core.missing` when empty."""
    cached = flask.g.get("json_body", _UNREAD)
    if cached is _UNREAD:
        data = flask.request.get_data(cache=True)
        max_depth = flask.current_app.extensions["vigie.config"].max_json_depth
        cached = parse(data, max_depth=max_depth) if data else core.missing
        flask.g.json_body = cached
    return cached


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through `load_json`."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return load_json()


PARSER = ArgumentsParser()

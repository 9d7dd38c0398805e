"""Domain errors and their one rendering: RFC 9457 application/problem+json.

Services raise the classes below; nothing else in the code builds an error body.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"


class Problem(Exception):
    """An error a caller can act on, rendered as a problem document."""

    status = 500
    slug = "internal-error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or HTTPStatus(self.status).phrase)
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.extensions = extensions


class BadRequest(Problem):
    status, slug = 400, "bad-request"


class Unauthorized(Problem):
    status, slug = 401, "unauthorized"


class Forbidden(Problem):
    status, slug = 403, "forbidden"


class NotFound(Problem):
    status, slug = 404, "not-found"


class Conflict(Problem):
    status, slug = 409, "conflict"


class PreconditionFailed(Problem):
    status, slug = 412, "precondition-failed"


class ServiceUnavailable(Problem):
    """503: the database cannot serve now; the caller retries after `Retry-After` seconds."""

    status, slug = 503, "service-unavailable"


class Invalid(Problem):
    """422 naming the fields at fault."""

    status, slug = 422, "validation-error"

    def __init__(self, detail: str | None = None, *, field: str | None = None, **kw: Any) -> None:
        if field is not None and "errors" not in kw:
            kw["errors"] = [field_error(field, detail or "Invalid value.")]
        super().__init__(detail or "The request has invalid fields.", **kw)


def field_error(field: str, detail: str, *, location: str = "body") -> dict[str, Any]:
    entry: dict[str, Any] = {"field": field, "detail": detail}
    if location == "body" and field == "(body)":
        entry["pointer"] = "#"
    elif location == "body":
        entry["pointer"] = "#/" + field.replace(".", "/").replace("[", "/").replace("]", "")
    else:
        entry["in"] = location
    return entry


def flatten_messages(
    messages: Any, location: str = "body", prefix: str = ""
) -> list[dict[str, Any]]:
    """Turn marshmallow's nested messages into a flat list naming each field."""
    out: list[dict[str, Any]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                name = prefix
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, location, name))
    elif isinstance(messages, Iterable) and not isinstance(messages, str):
        for item in messages:
            out.extend(flatten_messages(item, location, prefix))
    else:
        out.append(field_error(prefix or "(body)", str(messages), location=location))
    return out


def problem_body(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    return body


def documented_problem(blp: Any, status: int, **examples: Mapping[str, Any]) -> Any:
    """Document that an operation of `blp` may answer `status` as a problem, with named examples."""
    return blp.alt_response(
        status,
        schema=ProblemSchema,
        content_type=PROBLEM_JSON,
        description=HTTPStatus(status).phrase,
        examples={name: {"value": value} for name, value in examples.items()},
    )


def problem_response(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    try:
        body = {**body, "instance": request.path}
        request_id = getattr(g, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    except RuntimeError:  # outside a request (batch items are built without one)
        pass
    response = Response(json.dumps(body), status=body["status"], mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def body_for(error: Problem) -> dict[str, Any]:
    return problem_body(
        error.status,
        slug=error.slug,
        detail=error.detail,
        errors=error.errors,
        extensions=error.extensions,
    )


def _http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    errors = None
    detail = error.description if status < 500 else None
    data = getattr(error, "data", None)  # webargs puts parse errors here
    if isinstance(data, Mapping) and "messages" in data:
        errors = []
        for location, messages in data["messages"].items():
            loc = "body" if location in ("json", "form", "files") else location
            errors.extend(flatten_messages(messages, loc))
        detail = "The request has invalid fields." if status == 422 else detail
        if status == 400 and errors:
            detail = errors[0]["detail"]
    slug = {400: "bad-request", 413: "payload-too-large", 422: "validation-error"}.get(status)
    if status == 413:
        detail = f"The body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes."
    headers = {}
    if status == 405 and error.response is None:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    body = problem_body(status, slug=slug, detail=detail, errors=errors)
    return problem_response(body, headers)


def _problem(error: Problem) -> Response:
    return problem_response(body_for(error), error.headers)


def _causes(error: BaseException) -> list[str]:
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    return chain


def log_failure(logger: logging.Logger, message: str, error: BaseException, **extra: Any) -> None:
    """Log an exception by its classes and stack of code lines, never its message.

    Messages may quote the input (report text, contact details, SQL parameters); every
    place that logs an unexpected error (API, worker, jobs) goes through here.
    """
    logger.error(
        message,
        extra={**extra, "error": _causes(error), "stack": traceback.format_tb(error.__traceback__)},
    )


# What a database that is down, unreachable, frozen past its timeouts or locked past the
# busy timeout raises (SQLAlchemy wraps the driver's errors): 503, never a 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,  # refused, reset, statement timeout, shutdown, SQLite locked
    sa_exc.InterfaceError,  # the driver's connection is already closed
    sa_exc.DisconnectionError,  # the pool's ping found it dead
    sa_exc.TimeoutError,  # no free pooled connection in time
)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what it was raised from) means the database cannot serve now.

    Only explicit causes (`raise ... from`) count: a bug in code handling a database error
    must stay a 500 with its stack, not pass for an outage.
    """
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, DATABASE_UNAVAILABLE):
            return not _sqlite_bug(current)
        current = current.__cause__
    return False


SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly", "full")


def _sqlite_bug(error: BaseException) -> bool:
    """sqlite3 raises OperationalError for a mistyped statement too: that stays a 500."""
    orig = getattr(error, "orig", None)
    if type(orig).__module__ != "sqlite3":
        return False
    text = str(orig).lower()
    return not any(word in text for word in SQLITE_UNAVAILABLE)


class FailureLog:
    """One short log line per failure class per interval, never a stack per request.

    While the database is down every request fails the same way; logging each one would
    bury everything else (and a stack per request is kilobytes). The line names the
    exception classes and the driver's SQLSTATE, never the message (it may quote a host,
    a statement or input), and counts the failures not logged since the previous line.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[tuple[str, ...], float] = {}
        self._quiet: dict[tuple[str, ...], int] = {}

    def log(self, logger: logging.Logger, message: str, error: BaseException, **extra: Any) -> bool:
        """Log `error` unless its class was logged less than `interval` ago; whether it was."""
        classes = _causes(error)
        kind = tuple(classes[:2])  # SQLAlchemy's class and the driver's: the failure class
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._quiet[kind] = self._quiet.get(kind, 0) + 1
                return False
            self._last[kind] = now
            suppressed = self._quiet.pop(kind, 0)
        sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
        logger.error(
            message,
            extra={**extra, "error": classes, "sqlstate": sqlstate, "suppressed": suppressed},
        )
        return True


def _setting(name: str, default: Any) -> Any:
    config = current_app.extensions.get("vigie.config")
    return getattr(config, name, default)


def _unavailable(error: Exception) -> Response:
    failures = current_app.extensions.get("vigie.failure_log")
    if failures is None:
        failures = FailureLog(_setting("db_error_log_seconds", 10.0))
        current_app.extensions["vigie.failure_log"] = failures
    failures.log(log, "database unavailable", error)
    retry_after = int(_setting("db_retry_after_seconds", 5))
    body = problem_body(
        503,
        slug=ServiceUnavailable.slug,
        detail=f"The service is temporarily unavailable; retry in {retry_after} seconds.",
    )
    return problem_response(body, {"Retry-After": str(retry_after)})


INVALID_JSON = "Invalid JSON body."


def _unparseable_body(error: Exception) -> bool:
    """Whether `error` is the JSON parser refusing this request's body.

    A body nested too deeply (RecursionError) or holding an integer too long to convert
    (ValueError) is not the JSONDecodeError that webargs answers with a 400, so it lands
    here; parsing the body again tells it apart from a bug, which stays a 500.
    """
    if not isinstance(error, RecursionError | ValueError) or not request.content_length:
        return False
    try:
        json.loads(request.get_data(cache=True))
    except (RecursionError, ValueError):
        return True
    return False


def _unexpected(error: Exception) -> Response:
    if database_unavailable(error):
        return _unavailable(error)
    if _unparseable_body(error):
        body = problem_body(
            400,
            slug="bad-request",
            detail=INVALID_JSON,
            errors=[field_error("(body)", INVALID_JSON)],
        )
        return problem_response(body)
    log_failure(log, "unhandled error", error)
    body = problem_body(500, slug="internal-error", detail="An unexpected error occurred.")
    return problem_response(body)


def register(app: Flask) -> None:
    """Install the handlers; called after flask-smorest so ours win."""
    app.register_error_handler(Problem, _problem)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)  # database unavailable: 503 there


class FieldErrorSchema(Schema):
    field = fields.String(metadata={"description": "Dotted path of the field, e.g. stay.check_out"})
    pointer = fields.String(metadata={"description": "JSON pointer into the request body"})
    in_ = fields.String(
        data_key="in",
        metadata={"description": "Where the field is when not in the body: query, header, path"},
    )
    detail = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem document."""

    class Meta:
        # RFC 9457 extension members (e.g. `allowed` on a 409) are part of the document.
        unknown = INCLUDE

    type = fields.String(metadata={"example": "/problems/validation-error"})
    title = fields.String(metadata={"example": "Unprocessable Content"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    instance = fields.String(metadata={"example": "/v1/reports"})
    request_id = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))

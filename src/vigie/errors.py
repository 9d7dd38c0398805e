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
PROBLEM_BASE = "/problems/"  # every `type` is this + a slug, and GET on it explains the slug
MAX_FIELD_ERRORS = 50  # an answer lists at most this many field errors (and counts them all)


class Problem(Exception):
    """An error a caller can act on, rendered as a problem document.

    Each subclass with its own `slug` is a problem type: `/problems/<slug>` serves a page
    (vigie.problems) built from its `summary`, `meaning` (what happened) and `fix`.
    """

    status = 500
    slug = "internal-error"
    summary = "Internal error"
    meaning = "Something failed on our side while answering; nothing you sent was stored."
    fix = (
        "Retry later with the same request (with the same Idempotency-Key if you sent one). "
        "If it persists, send us the request_id of the answer."
    )

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
    summary = "Bad request"
    meaning = (
        "The request could not be read: the body is not valid JSON, or a parameter or header "
        "(a cursor, an Idempotency-Key) is malformed. The detail and errors say which."
    )
    fix = "Send well-formed JSON encoded in UTF-8, and pass cursors back exactly as received."


class Unauthorized(Problem):
    status, slug = 401, "unauthorized"
    summary = "Missing or invalid credential"
    meaning = "The request carries no credential, or one that is wrong, revoked or expired."
    fix = (
        "Send your key as the header Authorization: Bearer <key> (never in the URL). "
        "If it was revoked or rotated, use the new one."
    )


class Forbidden(Problem):
    status, slug = 403, "forbidden"
    summary = "Not allowed"
    meaning = "The credential is valid but does not grant this operation (a scope or a role)."
    fix = "Ask MIPROF for a key with the scope the detail names, or use the right credential."


class NotFound(Problem):
    status, slug = 404, "not-found"
    summary = "Not found"
    meaning = (
        "Nothing is served at this path, or the resource does not exist or is not yours "
        "(another partner's resources are not found, not forbidden)."
    )
    fix = "Check the path and the identifier against the API reference (/openapi.json)."


class Conflict(Problem):
    status, slug = 409, "conflict"
    summary = "Conflict"
    meaning = (
        "The request conflicts with the current state: for example a partner_reference "
        "already used (the problem names the existing resource) or a change not allowed "
        "in the resource's current status."
    )
    fix = "Read the resource named in the problem and decide from its current state."


class PreconditionFailed(Problem):
    status, slug = 412, "precondition-failed"
    summary = "Precondition failed"
    meaning = "The resource changed since you read it: its ETag no longer matches If-Match."
    fix = "Read the resource again, reapply your change and send it with the new ETag."


class ServiceUnavailable(Problem):
    """503: the database cannot serve now; the caller retries after `Retry-After` seconds."""

    status, slug = 503, "service-unavailable"
    summary = "Service unavailable"
    meaning = (
        "The service cannot reach its database right now (an outage, a restart or a lock held "
        "too long). Nothing of this request was stored."
    )
    fix = (
        "Send the same request again after the number of seconds in Retry-After; with an "
        "Idempotency-Key, a retry can never store a report twice."
    )


class Invalid(Problem):
    """422 naming the fields at fault."""

    status, slug = 422, "validation-error"
    summary = "Invalid fields"
    meaning = (
        "The body is well-formed but some fields are invalid. Each entry of errors names one "
        "field (field, a dotted path, and pointer, a JSON pointer into your body) and why. At "
        f"most {MAX_FIELD_ERRORS} are listed; error_count then gives the total."
    )
    fix = "Correct each field named in errors and send the request again."

    def __init__(self, detail: str | None = None, *, field: str | None = None, **kw: Any) -> None:
        if field is not None and "errors" not in kw:
            kw["errors"] = [field_error(field, detail or "Invalid value.")]
        super().__init__(detail or "The request has invalid fields.", **kw)


class MethodNotAllowed(Problem):
    status, slug = 405, "method-not-allowed"
    summary = "Method not allowed"
    meaning = "The path exists but not with this HTTP method; the Allow header lists its methods."
    fix = "Use one of the methods in the Allow header (the API reference shows each operation)."


class PayloadTooLarge(Problem):
    status, slug = 413, "payload-too-large"
    summary = "Body too large"
    meaning = (
        "The request body is larger than the limit the detail states, whether it was sent "
        "with a Content-Length or in chunks. Nothing of it was stored."
    )
    fix = "Send a smaller body: shorten free text, or split a batch into several requests."


class RequestTimeout(Problem):
    """408: answered by the reverse proxy (config/nginx/vigie.conf), never by the app."""

    status, slug = 408, "request-timeout"
    summary = "Request not received in time"
    meaning = (
        "The headers or the body of the request did not arrive within the proxy's timeouts "
        "(10 seconds without a byte). Nothing of it reached the service."
    )
    fix = "Send the request again, whole; with an Idempotency-Key a retry is always safe."


class UriTooLong(Problem):
    status, slug = 414, "uri-too-long"
    summary = "Request line too long"
    meaning = "The request line (method, path and query string) is longer than the server reads."
    fix = "Shorten the query string: page with the cursor instead of repeating parameters."


class HeaderFieldsTooLarge(Problem):
    status, slug = 431, "header-fields-too-large"
    summary = "Request headers too large"
    meaning = "One header is longer, or there are more headers, than the server accepts."
    fix = "Send fewer and shorter headers (cookies from other sites are a common cause)."


class JsonTooDeep(BadRequest):
    slug = "json-too-deep"
    summary = "JSON nested too deeply"
    meaning = (
        "The JSON body nests arrays or objects deeper than the limit the detail states. No "
        "Vigie resource needs more than a few levels."
    )
    fix = "Send the documented shape of the resource; flatten any deeper structure."


class MalformedBody(BadRequest):
    slug = "malformed-body"
    summary = "Malformed body"
    meaning = (
        "The body could not be read as HTTP: a chunk size of Transfer-Encoding: chunked is "
        "not hexadecimal, a chunk is not terminated, or the connection ended before the body did."
    )
    fix = "Let your HTTP client encode the body; send a Content-Length or well-formed chunks."


class HttpError(Problem):
    """A status of HTTP itself that no other type describes (e.g. 428, 416)."""

    slug = "http-error"
    summary = "HTTP error"
    meaning = "The request failed at the HTTP level; the status and the detail say how."
    fix = "Read the status code (RFC 9110) and the detail, correct the request and retry."

    def __init__(self, status: int, detail: str | None = None, **kw: Any) -> None:
        self.status = status
        super().__init__(detail, **kw)


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
    """The document; `errors` beyond MAX_FIELD_ERRORS are counted in `error_count`, not listed,
    so that no request can make an answer much larger than itself."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or HttpError.slug),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors[:MAX_FIELD_ERRORS]
        if len(errors) > MAX_FIELD_ERRORS:
            body["error_count"] = len(errors)
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


BY_STATUS: dict[int, type[Problem]] = {
    cls.status: cls
    for cls in (
        BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict,
        PreconditionFailed, PayloadTooLarge, UriTooLong, Invalid, HeaderFieldsTooLarge, Problem,
    )
}  # fmt: skip


def for_status(status: int, detail: str | None = None, **kw: Any) -> Problem:
    """The problem for an HTTP status raised outside our code (routing, Werkzeug, gunicorn)."""
    cls = BY_STATUS.get(status)
    if cls is None:
        return HttpError(status, detail, **kw)
    return cls(detail, **kw)


def _short_detail(error: HTTPException) -> str | None:
    """Werkzeug's own sentences are long and generic: say what this request did instead."""
    status = error.code or 500
    if status >= 500:
        return None
    if status == 404:
        return "Nothing is served at this path; the API reference (/openapi.json) lists them."
    if status == 405:
        return f"{request.method} is not allowed on this path."
    if status == 413:
        limit = current_app.extensions["vigie.config"].max_body_bytes
        return f"The body is larger than {limit} bytes."
    if error.description != type(error).description:
        return error.description  # a sentence our code or a library chose for this request
    return HTTPStatus(status).phrase + "."


def _http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    errors = None
    detail = _short_detail(error)
    data = getattr(error, "data", None)  # webargs puts parse errors here
    if isinstance(data, Mapping) and "messages" in data:
        errors = []
        for location, messages in data["messages"].items():
            loc = "body" if location in ("json", "form", "files") else location
            errors.extend(flatten_messages(messages, loc))
        detail = "The request has invalid fields." if status == 422 else detail
        if status == 400 and errors:
            detail = errors[0]["detail"]
    headers = {}
    if status == 405 and error.response is None:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
            detail = f"{request.method} is not allowed on this path; use {headers['Allow']}."
    problem = for_status(status, detail, errors=errors)
    return problem_response(body_for(problem), headers)


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


def _unexpected(error: Exception) -> Response:
    if database_unavailable(error):
        return _unavailable(error)
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
    errors = fields.List(
        fields.Nested(FieldErrorSchema),
        metadata={"description": f"The fields at fault: at most {MAX_FIELD_ERRORS} are listed"},
    )
    error_count = fields.Integer(
        metadata={"description": "How many field errors there were, when more than are listed"}
    )

"""Domain errors and their one rendering: RFC 9457 application/problem+json.

Services raise the classes below; nothing else in the code builds an error body.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from marshmallow import INCLUDE, Schema, fields
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
    app.register_error_handler(Exception, _unexpected)


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

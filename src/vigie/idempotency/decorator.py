"""The `Idempotency-Key` request header, as a decorator for partner POST views.

Place it under `auth.partner(...)` and above `blp.arguments(...)`:

    @auth.partner(blp, "reports:write")
    @idempotent(blp)
    @blp.arguments(...)

Only successful (2xx) responses are kept and replayed; a request that fails
(4xx or 5xx) releases its key, so the same key may be retried.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, make_response, request

from vigie import auth, web
from vigie.errors import BadRequest, field_error
from vigie.idempotency import service

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "Content-Type")
# An sf-string per the draft ("..."); a bare token is accepted too.
KEY = re.compile(r'^"?([\x21\x23-\x7e]{1,255})"?$')
F = TypeVar("F", bound=Callable[..., Any])

PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
    "description": (
        "Unique per request you mean once (a UUID). Retrying with the same key and the same "
        "body replays the first response (header `Idempotent-Replayed: true`), the same key "
        "with another body is 422, and a retry while the first is still running is 409. "
        "Keys are scoped to your partner account and kept at least 24 hours."
    ),
}
EXAMPLE_IN_USE = {
    "type": "/problems/idempotency-key-in-use",
    "title": "Conflict",
    "status": 409,
    "detail": "A request with this Idempotency-Key is still being processed; retry later.",
    "instance": "/v1/reports",
}
EXAMPLE_REUSED = {
    "type": "/problems/idempotency-key-reused",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "This Idempotency-Key was already used with a different request.",
    "errors": [
        {"field": "Idempotency-Key", "in": "header", "detail": "Used before with another body."}
    ],
    "instance": "/v1/reports",
}


def _key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    match = KEY.match(raw.strip())
    if match is None:
        raise BadRequest(
            f"{HEADER} must be 1 to 255 visible ASCII characters.",
            errors=[field_error(HEADER, "Malformed key.", location="header")],
        )
    return match.group(1)


def _replay(replay: service.Replay) -> Response:
    response = Response(replay.body, status=replay.status)
    for name, value in replay.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def _finish(claim: service.Claimed, response: Response | None) -> None:
    """Record a 2xx response for replay, or release the key; never hides the real outcome."""
    session = web.session()
    try:
        session.rollback()
        if response is not None and 200 <= response.status_code < 300:
            service.complete(
                session=session,
                claim=claim,
                status=response.status_code,
                body=response.get_data(as_text=True),
                headers={h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
            )
        else:
            service.release(session=session, claim=claim)
        session.commit()
    # Whatever fails here must neither turn the view's committed answer into a 500 (which
    # the client would retry) nor hide the view's own error. The lease expires by itself.
    except Exception:  # noqa: BLE001 - the view's outcome stands, whatever failed here
        session.rollback()
        log.warning("could not record the outcome of an idempotent request", exc_info=False)


def idempotent(blp: Any) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = _key()
            if key is None:
                return func(*args, **kwargs)
            config = web.runtime().config
            session = web.session()
            outcome = service.begin(
                session=session,
                partner_id=auth.current_partner().id,
                key=key,
                fingerprint=service.fingerprint(
                    method=request.method, path=request.path, body=request.get_data()
                ),
                ttl=timedelta(hours=config.idempotency_ttl_hours),
                lease=timedelta(seconds=config.idempotency_lease_seconds),
            )
            session.commit()  # the claim is visible to concurrent requests from now on
            if isinstance(outcome, service.Replay):
                return _replay(outcome)
            try:
                response = make_response(func(*args, **kwargs))
            except BaseException:
                _finish(outcome, None)
                raise
            _finish(outcome, response)
            return response

        wrapper = blp.doc(parameters=[PARAMETER])(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorator

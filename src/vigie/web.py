"""Per-request access to the runtime and the request's unit of work."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from vigie.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["vigie"]
    return rt


def session() -> Session:
    """The request's session: writes (POST, PATCH, ...) take the SQLite write lock up front."""
    current: Session | None = g.get("db_session")
    if current is None:
        current = runtime().db.session(write=request.method not in SAFE_METHODS)
        g.db_session = current
    return current


def _close_session(_exc: BaseException | None) -> None:
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.close()  # rolls back anything a view did not commit


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)

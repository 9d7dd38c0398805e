"""Per-request access to the runtime and the request's unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def lookup() -> Iterator[Session]:
    """A session for the lookups that precede a request's work (authentication).

    On SQLite a write request would otherwise hold the database write lock
    (BEGIN IMMEDIATE) from its first query to its commit, across parsing and
    validation; the lookup runs instead in a short read transaction of its own,
    which in WAL mode never waits for writers. Elsewhere it is the request's session.
    """
    rt = runtime()
    if not rt.db.is_sqlite or request.method in SAFE_METHODS:
        yield session()
        return
    own = rt.db.session(write=False)
    try:
        yield own
    finally:
        own.close()


def _close_session(_exc: BaseException | None) -> None:
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.close()  # rolls back anything a view did not commit


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)

"""Per-request access to the runtime and the request's unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import flask_smorest
from flask import Flask, current_app, g, request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from vigie import bodies
from vigie.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Blueprint(flask_smorest.Blueprint):
    """The API's blueprint: `@blp.arguments` reads JSON bodies through `vigie.bodies` (bounded
    nesting, no NUL), when the view runs, after its decorators authenticated the caller."""

    ARGUMENTS_PARSER = bodies.PARSER


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
def lookup() -> Iterator[Connection]:
    """A short read-only connection for what precedes a request's work (authentication).

    A plain pooled connection, not the request's session: it costs a fraction of an
    ORM session, a request answered from memory (a content 304) needs no session at
    all, and on SQLite a write request does not hold the write lock (BEGIN IMMEDIATE)
    across parsing and validation. In WAL mode this read never waits for writers.
    """
    with runtime().db.lookup() as connection:
        yield connection


def _close_session(_exc: BaseException | None) -> None:
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.close()  # rolls back anything a view did not commit


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)

"""A database that is down, unreachable, frozen or locked: 503 with Retry-After, in bounded time.

In-process: the app is pointed at a PostgreSQL port that refuses connections, at one that
accepts them and never answers (a frozen server), or its database is locked by another
connection. Each request answers a problem document with `Retry-After` within the configured
timeout, the logs get one short line per failure class (never a stack per request, never
the URL's password), and the same app serves again once the lock is released.
The stop-and-restart of a real PostgreSQL cluster under load is tests/test_database_outage.py.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from live import free_port
from payloads import stay_report

PASSWORD = "Pa55-w0rd-in-the-url"
ON_POSTGRES = os.environ.get("VIGIE_TEST_DATABASE_URL", "").startswith("postgresql")


def _postgres_url(port: int) -> str:
    return f"postgresql+psycopg://vigie:{PASSWORD}@127.0.0.1:{port}/vigie"


@pytest.fixture
def frozen_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a PostgreSQL that froze."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/service-unavailable"
    assert int(response.headers["Retry-After"]) == 7
    body = response.get_data(as_text=True)
    assert PASSWORD not in body
    assert "127.0.0.1" not in body


def _vigie_lines(caplog) -> list[str]:
    """Every record at WARNING or above, formatted as the process writes it (JSON)."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_vigie", False))
    return [handler.format(r) for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_refused_database_answers_503_with_one_short_log_line(make_app, caplog):
    app = make_app(database_url=_postgres_url(free_port()), db_retry_after_seconds=7)
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    caplog.clear()  # what creating the app logged (the test settings' warning)
    for n in range(30):
        response = client.post(
            "/v1/reports",
            json=stay_report(partner_reference=f"REF-{n}"),
            headers={"Authorization": "Bearer vk_test_whatever"},
        )
        _assert_unavailable(response)
    _assert_unavailable(client.get("/readyz"))
    assert client.get("/healthz").status_code == 200  # the process itself is alive

    lines = _vigie_lines(caplog)
    assert len(lines) == 1, lines  # 31 failures of one class: one line, not 31 stacks
    assert "database unavailable" in lines[0]
    assert "psycopg.OperationalError" in lines[0]
    assert len(lines[0]) < 600
    assert PASSWORD not in lines[0]
    assert "Traceback" not in lines[0]
    assert "stack" not in caplog.records[0].__dict__


def test_a_frozen_database_answers_503_within_the_connect_timeout(make_app, frozen_port):
    app = make_app(
        database_url=_postgres_url(frozen_port),
        db_connect_timeout_seconds=2,
        db_retry_after_seconds=7,
    )
    client = app.test_client()
    for path in ("/v1/reports", "/readyz"):
        started = time.monotonic()
        response = (
            client.post("/v1/reports", json=stay_report(), headers={"Authorization": "Bearer x"})
            if path == "/v1/reports"
            else client.get(path)
        )
        elapsed = time.monotonic() - started
        _assert_unavailable(response)
        assert 1.5 <= elapsed < 4.0, f"{path} answered after {elapsed:.1f} s"


def test_an_unopenable_sqlite_file_answers_503(make_app, tmp_path):
    missing = tmp_path / "no-such-directory" / "vigie.db"
    app = make_app(database_url=f"sqlite:///{missing}", db_retry_after_seconds=7)
    response = app.test_client().get("/v1/reports", headers={"Authorization": "Bearer x"})
    _assert_unavailable(response)


def test_a_locked_database_answers_503_within_the_timeout_then_serves_again(make_app, db, partner):
    """A write lock held by another connection: SQLite's busy timeout, PostgreSQL's
    statement timeout (which covers lock waits) bound the request; released, it succeeds."""
    app = make_app(
        sqlite_busy_timeout_ms=300, db_statement_timeout_ms=500, db_retry_after_seconds=7
    )
    client = app.test_client()
    with db.unit(write=True) as holder:
        if ON_POSTGRES:
            holder.execute(text("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE"))
        else:
            holder.execute(text("DELETE FROM reports WHERE 1 = 0"))  # takes the write lock
        started = time.monotonic()
        response = client.post("/v1/reports", json=stay_report(), headers=partner.headers)
        elapsed = time.monotonic() - started
    _assert_unavailable(response)
    assert elapsed < 2.5, f"answered after {elapsed:.1f} s"

    response = client.post("/v1/reports", json=stay_report(), headers=partner.headers)
    assert response.status_code == 201, response.json
    assert client.get("/readyz").status_code == 200


def test_a_mistyped_statement_stays_a_500_not_an_outage(client, partner, monkeypatch):
    """sqlite3 raises OperationalError for a syntax error too: a bug must not pass for a 503."""
    from sqlalchemy.orm import Session

    def broken(self, *_args, **_kwargs):
        return self.connection().exec_driver_sql("SELEC 1")

    monkeypatch.setattr(Session, "scalars", broken)
    response = client.get("/v1/reports", headers=partner.headers)
    assert response.status_code == 500
    assert response.headers.get("Retry-After") is None

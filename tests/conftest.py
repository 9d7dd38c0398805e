"""Fixtures shared by the whole suite.

The suite runs once per database: SQLite by default, PostgreSQL when
VIGIE_TEST_DATABASE_URL is set (the Makefile's second pass). The schema is built
with the real Alembic migrations once per run; each test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from payloads import stay_report
from topology import nginx_path
from vigie import clock, migrate, ratelimit
from vigie.app import create_app
from vigie.audit.service import Who
from vigie.db import Database, make_engine
from vigie.models import Base

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA_KEY = Fernet.generate_key().decode()
SECRET_KEY = "test-secret-key-" + "x" * 32


def pytest_report_header(config: pytest.Config) -> str:
    return f"vigie database: {_engine_name()}"


def _engine_name() -> str:
    url = os.environ.get("VIGIE_TEST_DATABASE_URL", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI (VIGIE_TEST_REQUIRE_ALL=1) a missing PostgreSQL, Redis, browser or nginx is a
    failure,
    not a skip."""
    if os.environ.get("VIGIE_TEST_REQUIRE_ALL") != "1":
        return
    missing = []
    if not os.environ.get("VIGIE_TEST_POSTGRES_URL"):
        missing.append("VIGIE_TEST_POSTGRES_URL is not set")
    if not os.environ.get("VIGIE_TEST_REDIS_URL"):
        missing.append("VIGIE_TEST_REDIS_URL is not set")
    if not chromium_path():
        missing.append("Chromium is not on the PATH")
    if not nginx_path():
        missing.append("nginx is not installed")
    if missing:
        pytest.exit("VIGIE_TEST_REQUIRE_ALL=1 but " + "; ".join(missing), returncode=3)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("VIGIE_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'vigie.db'}"
    return url


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def test_config(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {
        "env": "test",
        "database_url": migrated,
        "secret_key": SECRET_KEY,
        "data_key": DATA_KEY,
        "var_dir": str(tmp_path_factory.mktemp("var")),
        "webhook_allow_private": True,
    }


@pytest.fixture(scope="session")
def make_app(test_config: dict[str, Any]) -> Callable[..., Flask]:
    """An app with config overrides, for tests that need other settings."""
    created: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app({**test_config, **overrides})
        created.append(app)
        return app

    factory.created = created  # type: ignore[attr-defined]
    yield factory  # type: ignore[misc]
    for app in created:
        app.extensions["vigie"].db.dispose()


@pytest.fixture(autouse=True)
def _close_made_apps(make_app: Callable[..., Flask]) -> Iterator[None]:
    """After each test, the apps it made give their database connections back: an app per
    test would otherwise hold PostgreSQL connections to the end of the session (the server
    allows 100). A disposed engine opens new connections if the app is used again."""
    yield
    for made in make_app.created:  # type: ignore[attr-defined]
        if not made.extensions.get("vigie.test.session_app"):
            made.extensions["vigie"].db.dispose()


@pytest.fixture(scope="session")
def session_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()
    app.extensions["vigie.test.session_app"] = True
    return app


def _empty_tables(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our own table names


def _forget_content_memory(app: Flask) -> None:
    """API workers keep published content and pull counts in memory; tests start without."""
    state = app.extensions.pop("vigie.content", None)
    if state is not None:
        state.recorder.close()


@pytest.fixture
def app(session_app: Flask) -> Iterator[Flask]:
    _empty_tables(session_app.extensions["vigie"].db)
    _forget_content_memory(session_app)
    ratelimit.reset(session_app)  # no request counted yet: rate limits, failed logins
    clock.reset()
    yield session_app
    _forget_content_memory(session_app)
    clock.reset()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["vigie"].db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# -- factories -----------------------------------------------------------------

SEEDER = Who.system("tests")  # fixtures create accounts as an admin command would
ALL_SCOPES = ("reports:write", "reports:read", "content:read", "webhooks:manage")


class Actor(dict):
    """Credentials of a test caller; `headers` is ready for the test client."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self['secret']}"}


@pytest.fixture
def make_partner(db: Database) -> Callable[..., Actor]:
    from vigie.partners import service

    def factory(name: str = "Plateforme test", scopes: tuple[str, ...] = ALL_SCOPES) -> Actor:
        with db.unit() as session:
            partner, key = service.create(session=session, who=SEEDER, name=name, scopes=scopes)
            return Actor(id=partner.public_id, pk=partner.id, name=partner.name, secret=key)

    return factory


@pytest.fixture
def partner(make_partner: Callable[..., Actor]) -> Actor:
    return make_partner()


@pytest.fixture
def make_staff(db: Database) -> Callable[..., Actor]:
    from vigie.operators import service

    def factory(role: str = "operator", name: str | None = None) -> Actor:
        with db.unit() as session:
            account, token = service.create(
                session=session, who=SEEDER, name=name or f"{role} test", role=role
            )
            return Actor(id=account.public_id, pk=account.id, role=role, secret=token)

    return factory


@pytest.fixture
def post_report(client: FlaskClient) -> Callable[..., Any]:
    """POST a report as `actor`; returns the test response."""

    def send(actor: Actor, body: dict[str, Any] | None = None, **headers: str) -> Any:
        return client.post(
            "/v1/reports", json=body or stay_report(), headers={**actor.headers, **headers}
        )

    return send


# -- real HTTP receivers and worker processes (webhooks, forwarding) ----------------


@pytest.fixture
def receivers() -> Iterator[Callable[..., Any]]:
    """Start webhook receivers on 127.0.0.1: `receivers(delay=0.4)`; all stop after the test."""
    from webhook_receiver import Receiver, start_receiver

    started = []

    def make(**kwargs: Any) -> Receiver:
        receiver = Receiver(**kwargs)
        server, _ = start_receiver(receiver)
        started.append(server)
        return receiver

    yield make
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def workers() -> Iterator[Callable[..., Any]]:
    """Start `vigie worker` processes: `workers(config, **env)`; any still running is killed."""
    from webhook_receiver import start_worker

    started = []

    def start(config: Any, **env: str) -> Any:
        process = start_worker(config, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()

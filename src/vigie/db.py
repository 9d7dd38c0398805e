"""Engine, sessions and column types shared by every domain.

SQLite runs in WAL mode with a busy timeout and foreign keys on; write units of
work start with BEGIN IMMEDIATE so concurrent writers queue instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from vigie.config import Config
from vigie.errors import NotFound

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


M = TypeVar("M", bound=Base)


def get_or_404(
    session: Session,
    model: type[M],
    public_id: str,
    *,
    what: str,
    where: tuple[ColumnElement[bool], ...] = (),
    lock: bool = False,
) -> M:
    """The row of `model` with this public id (and `where`), or 404 `No <what> <id>.`.

    `where` narrows to what the caller may see (a partner's own rows), so another
    owner's row is answered exactly like a missing one.
    """
    query = select(model).where(model.public_id == public_id, *where)  # type: ignore[attr-defined]
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"No {what} {public_id}.")
    return row


def database_url(config: Config) -> str:
    if config.database_url:
        return config.database_url
    var = Path(config.var_dir)
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(var / 'vigie.db').resolve()}"


def make_engine(
    url: str,
    *,
    busy_timeout_ms: int = 5000,
    connect_timeout_seconds: int | None = None,
    statement_timeout_ms: int | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine whose waits are bounded, so a failing database answers fast (503), not late.

    PostgreSQL: `connect_timeout` for a new connection, the server's `statement_timeout`
    (lock waits included), and a ping at checkout so that connections broken by an outage
    are replaced by themselves once the server is back. SQLite: the busy timeout.
    """
    kwargs.setdefault("hide_parameters", True)  # SQL errors must not carry report data to logs
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)
        connect_args: dict[str, Any] = {}
        if connect_timeout_seconds:
            connect_args["connect_timeout"] = max(2, int(connect_timeout_seconds))
        if statement_timeout_ms:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        if statement_timeout_ms:
            Deadline(statement_timeout_ms / 1000 + 1).guard(engine)
        return engine
    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


UNBOUNDED = "vigie_unbounded"  # execution option: no client-side deadline (migrations)


class Deadline:
    """Cuts the connection of a call that a frozen server leaves unanswered.

    `statement_timeout` is enforced by the server: a server that stopped (SIGSTOP, a paused
    VM) answers nothing, not even the pool's ping, and the request would wait until gunicorn
    kills its worker. Every statement, ping, commit and rollback is timed; a watchdog thread
    shuts the socket of a call older than `seconds` (set just past the statement timeout, so
    a server that still answers always cancels first). psycopg then fails as on a lost
    connection, SQLAlchemy invalidates it, and the request answers 503.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def guard(self, engine: Engine) -> None:
        dialect: Any = engine.dialect
        for name in ("do_ping", "do_commit", "do_rollback"):
            setattr(dialect, name, self._timed(getattr(dialect, name), lambda c: c))
        for name in ("do_execute", "do_execute_no_params", "do_executemany"):
            setattr(dialect, name, self._timed(getattr(dialect, name), _cursor_connection))

    def _timed(
        self, call: Callable[..., Any], connection_of: Callable[[Any], Any]
    ) -> Callable[..., Any]:
        def timed(target: Any, *args: Any) -> Any:
            context = args[-1] if args else None
            if getattr(context, "execution_options", {}).get(UNBOUNDED):
                return call(target, *args)
            connection = connection_of(target)
            _WATCHDOG.arm(connection, self.seconds)
            try:
                return call(target, *args)
            finally:
                _WATCHDOG.disarm(connection)

        return timed


class _Watchdog:
    """One thread per process for every engine's deadlines, started at the first call."""

    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, int]] = {}  # id(connection) -> (deadline, fd)
        self._lock = threading.Lock()
        self._pid = 0  # a forked child (gunicorn worker) starts its own thread

    def arm(self, connection: Any, seconds: float) -> None:
        try:
            fd = connection.fileno()
        except Exception:  # noqa: BLE001 - a closed connection: the call fails on its own
            return
        with self._lock:
            self._armed[id(connection)] = (time.monotonic() + seconds, fd)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._watch, name="vigie-db-deadline", daemon=True).start()

    def disarm(self, connection: Any) -> None:
        with self._lock:
            self._armed.pop(id(connection), None)

    def _watch(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                for key, (deadline, fd) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[key]
                        _shut(fd)


_WATCHDOG = _Watchdog()


def _cursor_connection(cursor: Any) -> Any:
    return cursor.connection


def _shut(fd: int) -> None:
    """Shut the socket down (the fd stays the driver's to close): its wait ends at once."""
    with contextlib.suppress(OSError):
        duplicate = socket.socket(fileno=os.dup(fd))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()


class Database:
    """Owns the engine and hands out sessions: read units and write units."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._lookup_engine = (
            engine if engine.dialect.name == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )  # fmt: skip

    @classmethod
    def from_config(cls, config: Config) -> Database:
        url = database_url(config)
        extra: dict[str, Any] = {}
        if not url.startswith("sqlite"):
            extra["pool_timeout"] = config.db_pool_timeout_seconds
        engine = make_engine(
            url,
            busy_timeout_ms=config.sqlite_busy_timeout_ms,
            connect_timeout_seconds=config.db_connect_timeout_seconds,
            statement_timeout_ms=config.db_statement_timeout_ms,
            **extra,
        )
        return cls(engine)

    def lookup(self) -> Connection:
        """A connection for single-statement reads (authentication), to use as a context manager.

        On PostgreSQL it runs in autocommit, saving the BEGIN and ROLLBACK round trips;
        SQLite keeps its own BEGIN handling (the pysqlite isolation setting must not change).
        """
        return self._lookup_engine.connect()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def unit(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

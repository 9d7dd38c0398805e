"""Engine, sessions and column types shared by every domain.

SQLite runs in WAL mode with a busy timeout and foreign keys on; write units of
work start with BEGIN IMMEDIATE so concurrent writers queue instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
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
        return create_engine(url, connect_args=connect_args, **kwargs)
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

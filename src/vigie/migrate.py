"""Run Alembic migrations from inside the application (`vigie db upgrade`, tests)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

from vigie.db import UNBOUNDED

SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(SCRIPTS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # a migration may take longer than a request
            connection.execution_options(**{UNBOUNDED: True})
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (developers: `vigie db revision -m ...`)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def state(engine: Engine) -> str | None:
    """None when the database is at the code's migration heads, else one line saying what to do."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    chatty = logging.getLogger("alembic.runtime.migration")  # "Context impl …": not news here
    level = chatty.level
    chatty.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        chatty.setLevel(level)
    heads = set(scripts.get_heads())
    if current == heads:
        return None
    if not current:
        return "the database is not migrated: run vigie db upgrade first"
    known = {revision.revision for revision in scripts.walk_revisions()}
    if current <= known:
        return "the database is not up to date: run vigie db upgrade first"
    return (
        f"the database is at a revision this version of Vigie does not know "
        f"({', '.join(sorted(current - known))}): upgrade Vigie"
    )

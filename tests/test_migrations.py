"""The Alembic migrations build exactly the tables the models describe, and can be undone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from vigie import migrate
from vigie.db import make_engine
from vigie.models import Base


def _drift(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_the_migrated_schema_is_the_models_schema(migrated):
    engine = make_engine(migrated)
    try:
        assert _drift(engine) == []
    finally:
        engine.dispose()


def test_every_migration_can_be_undone_and_done_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'down.db'}")
    try:
        migrate.upgrade(engine)
        config = migrate.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert _drift(engine) == []
    finally:
        engine.dispose()

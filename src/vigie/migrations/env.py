"""Alembic environment: the URL comes from Vigie's config, the schema from vigie.models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from vigie.models import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    from vigie.config import load_config
    from vigie.db import database_url, make_engine

    engine = make_engine(
        context.config.get_main_option("sqlalchemy.url") or database_url(load_config())
    )
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
else:
    run(connection)

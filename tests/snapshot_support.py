"""What a refused request must leave as it was: every row of every table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vigie.models import Base


def snapshot(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order, to compare before and after a request."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }

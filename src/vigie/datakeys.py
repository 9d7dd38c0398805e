"""Data-key rotation: re-encrypt every encrypted column under the newest data key.

Every column whose name ends in `_enc`, in any table, holds a Fernet token (the
convention of the models). Rotation walks each such table by primary key in
small units of work and rewrites a value only if it is still the one read, so
a concurrent writer (already using the new key list) is never overwritten.

An entry-level module: it reads `vigie.models`, the registry of every model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, Row, Table, select, update
from sqlalchemy.orm import Session

from vigie.crypto import Crypto, DecryptionError
from vigie.db import Database
from vigie.models import Base


def encrypted_tables() -> list[tuple[Table, list[Column[Any]]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name.endswith("_enc")]
        if columns:
            found.append((table, columns))
    return found


def rotate(*, db: Database, crypto: Crypto, batch_size: int = 500) -> dict[str, int]:
    """Rewrite every encrypted value under the first key; returns values rewritten per table.

    Raises DecryptionError naming the table, column and row (never the value)
    if some value cannot be decrypted with any configured key.
    """
    return {
        table.name: _rotate_table(db, crypto, table, columns, batch_size)
        for table, columns in encrypted_tables()
    }


def _rotate_table(
    db: Database, crypto: Crypto, table: Table, columns: list[Column[Any]], batch_size: int
) -> int:
    """Walk one table by primary key, one unit of work per batch; values rewritten."""
    (pk,) = table.primary_key.columns
    count, last = 0, None
    while True:
        with db.unit() as session:
            query = select(pk, *columns).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk > last)
            rows = session.execute(query).all()
            for row in rows:
                count += _rotate_row(session, crypto, table, pk, columns, row)
        if len(rows) < batch_size:
            return count
        last = rows[-1][0]


def _rotate_row(
    session: Session,
    crypto: Crypto,
    table: Table,
    pk: Column[Any],
    columns: Sequence[Column[Any]],
    row: Row[Any],
) -> int:
    """Re-encrypt one row's values, only where they are still the ones read; values rewritten."""
    tokens: Sequence[str | None] = row[1:]
    values: dict[str, str | None] = {}
    unchanged = [pk == row[0]]
    for column, token in zip(columns, tokens, strict=True):
        if token is None:
            continue
        try:
            values[column.name] = crypto.rotate(token)
        except (InvalidToken, ValueError):  # no key decrypts it, or not a token at all
            raise DecryptionError(
                f"{table.name}.{column.name} of row {row[0]} cannot be "
                "decrypted with any configured key"
            ) from None
        unchanged.append(column == token)
    if not values:
        return 0
    result = session.execute(update(table).where(*unchanged).values(**values))
    return len(values) * int(result.rowcount)  # type: ignore[attr-defined]

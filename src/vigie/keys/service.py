"""Re-encrypt every encrypted column under the newest data key.

Every column whose name ends in `_enc`, in any table, holds a Fernet token (the
convention of the models). Rotation walks each such table by primary key in
small units of work and rewrites a value only if it is still the one read, so
a concurrent writer (already using the new key list) is never overwritten.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, select, update

from vigie.crypto import Crypto, DecryptionError
from vigie.db import Database


def encrypted_tables() -> list[tuple[Table, list[Column]]]:
    from vigie.models import Base

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
    counts: dict[str, int] = {}
    for table, columns in encrypted_tables():
        (pk,) = table.primary_key.columns
        counts[table.name] = 0
        last = None
        while True:
            with db.unit() as session:
                query = select(pk, *columns).order_by(pk).limit(batch_size)
                if last is not None:
                    query = query.where(pk > last)
                rows = session.execute(query).all()
                for row in rows:
                    values, unchanged = {}, [pk == row[0]]
                    for column, token in zip(columns, row[1:], strict=True):
                        if token is None:
                            continue
                        try:
                            values[column.name] = crypto.rotate(token)
                        except Exception:
                            raise DecryptionError(
                                f"{table.name}.{column.name} of row {row[0]} cannot be "
                                "decrypted with any configured key"
                            ) from None
                        unchanged.append(column == token)
                    if values:
                        result = session.execute(update(table).where(*unchanged).values(**values))
                        counts[table.name] += len(values) * result.rowcount  # type: ignore[attr-defined]
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
    return counts

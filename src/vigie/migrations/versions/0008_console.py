"""console: staff accounts get a password (Argon2 hash) to log in to the operator console

Revision ID: 0008_console
Revises: 0007_shelter_networks
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_console"
# 0007 is being written on another branch; this is re-chained after it when both are merged.
down_revision: str | Sequence[str] | None = "0007_shelter_networks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("password_hash")

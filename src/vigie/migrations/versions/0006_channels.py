"""channels: the tool each report came through; partners' slug and embed origins

Revision ID: 0006_channels
Revises: 0005_webhooks
Create Date: 2026-12-01 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from vigie.partners.slugs import unique_slug

revision: str = "0006_channels"
down_revision: str | Sequence[str] | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=40), nullable=False, server_default="api")
        )
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("slug", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("embed_origins", sa.JSON(), nullable=False, server_default="[]"))
    partners = sa.table(
        "partners", sa.column("id", sa.Integer), sa.column("name"), sa.column("slug")
    )
    connection = op.get_bind()
    taken: set[str] = set()
    for row in connection.execute(sa.select(partners.c.id, partners.c.name).order_by("id")):
        slug = unique_slug(row.name, taken)
        taken.add(slug)
        connection.execute(partners.update().where(partners.c.id == row.id).values(slug=slug))
    with op.batch_alter_table("partners") as batch:
        batch.alter_column("slug", existing_type=sa.String(length=80), nullable=False)
        batch.create_unique_constraint(op.f("uq_partners_slug"), ["slug"])


def downgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.drop_constraint(op.f("uq_partners_slug"), type_="unique")
        batch.drop_column("embed_origins")
        batch.drop_column("slug")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("channel")

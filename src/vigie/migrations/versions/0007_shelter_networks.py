"""shelter networks: outside intakes that receive referrals and report their outcomes

Revision ID: 0007_shelter_networks
Revises: 0006_channels
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

import vigie.db

revision: str = "0007_shelter_networks"
down_revision: str | Sequence[str] | None = "0006_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NETWORKS = "shelter_networks"


def _network_fk(
    batch: BatchOperations, table: str, column: str, ondelete: str | None = None
) -> None:
    batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
    batch.create_foreign_key(
        op.f(f"fk_{table}_{column}_{NETWORKS}"), NETWORKS, [column], ["id"], ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        NETWORKS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", vigie.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", vigie.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelter_networks")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_shelter_networks_key_hash")),
        sa.UniqueConstraint("public_id", name=op.f("uq_shelter_networks_public_id")),
    )
    with op.batch_alter_table("shelters") as batch:
        _network_fk(batch, "shelters", "network_id")
        batch.create_index(batch.f("ix_shelters_network_id"), ["network_id"], unique=False)
    with op.batch_alter_table("webhook_endpoints") as batch:
        _network_fk(batch, "webhook_endpoints", "shelter_network_id", ondelete="CASCADE")
        batch.add_column(sa.Column("forwarder", sa.String(length=64), nullable=True))
        batch.create_index(
            batch.f("ix_webhook_endpoints_shelter_network_id"), ["shelter_network_id"], unique=False
        )
    with op.batch_alter_table("outbox_events") as batch:
        _network_fk(batch, "outbox_events", "shelter_network_id")
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
        _network_fk(batch, "referrals", "shelter_network_id")
        batch.add_column(sa.Column("outcome_reason", sa.String(length=40), nullable=True))
        batch.create_index(
            batch.f("ix_referrals_shelter_network_id"), ["shelter_network_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index(batch.f("ix_referrals_shelter_network_id"))
        batch.drop_constraint(op.f(f"fk_referrals_shelter_network_id_{NETWORKS}"), "foreignkey")
        batch.drop_column("outcome_reason")
        batch.drop_column("shelter_network_id")
        batch.drop_column("languages")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_constraint(op.f(f"fk_outbox_events_shelter_network_id_{NETWORKS}"), "foreignkey")
        batch.drop_column("shelter_network_id")
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_index(batch.f("ix_webhook_endpoints_shelter_network_id"))
        batch.drop_constraint(
            op.f(f"fk_webhook_endpoints_shelter_network_id_{NETWORKS}"), "foreignkey"
        )
        batch.drop_column("forwarder")
        batch.drop_column("shelter_network_id")
    with op.batch_alter_table("shelters") as batch:
        batch.drop_index(batch.f("ix_shelters_network_id"))
        batch.drop_constraint(op.f(f"fk_shelters_network_id_{NETWORKS}"), "foreignkey")
        batch.drop_column("network_id")
    op.drop_table(NETWORKS)

"""The directory of shelters and other services people can be referred to, and the shelter
networks some of them belong to (outside intakes that receive referrals and report outcomes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigie.db import Base, UTCDateTime

SHELTER_TYPES = (
    "emergency_shelter",
    "protected_shelter",
    "child_protection",
    "association",
    "law_enforcement",
    "health",
)
ACCEPTS = ("women", "men", "families", "minors")
# The forwarder (`vigie.integrations`) of the shelters that belong to a shelter network.
NETWORK_FORWARDER = "shelter_network"


class ShelterNetwork(Base):
    """An outside intake (a SIAO, a national network) that receives the referrals made to its
    shelters and answers with their outcomes.

    It calls Vigie with its own key (`vn_…`): only the key's SHA-256 is stored, the key is
    shown once. Referrals reach it through a webhook endpoint it owns
    (`webhook_endpoints.shelter_network_id`), whose signing secret is stored encrypted there.
    """

    __tablename__ = "shelter_networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class Shelter(Base):
    __tablename__ = "shelters"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30), index=True)
    departments: Mapped[list[str]] = mapped_column(JSON)
    accepts: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    capacity_total: Mapped[int] = mapped_column(Integer)
    capacity_available: Mapped[int] = mapped_column(Integer)
    capacity_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    integration: Mapped[str | None] = mapped_column(String(64))
    # The shelter network it belongs to (its integration is then NETWORK_FORWARDER)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("shelter_networks.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Loaded with the shelter (a second SELECT, so that locking the shelter stays a plain
    # FOR UPDATE on PostgreSQL, which refuses it on the nullable side of an outer join).
    network: Mapped[ShelterNetwork | None] = relationship(lazy="selectin")

    @property
    def network_public_id(self) -> str | None:
        return self.network.public_id if self.network is not None else None

    @property
    def archived(self) -> bool:
        """Archived shelters stay in the directory for history but are no longer suggested."""
        return self.archived_at is not None

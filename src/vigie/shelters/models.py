"""The directory of shelters and other services people can be referred to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def archived(self) -> bool:
        """Archived shelters stay in the directory for history but are no longer suggested."""
        return self.archived_at is not None

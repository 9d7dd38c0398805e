from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigie.db import Base, UTCDateTime

STATUSES = ("draft", "published", "retired")


class ContentItem(Base):
    """An awareness item: the editors' working draft and the snapshot partners read.

    `draft` is the editor document exactly as the editor API takes it (Markdown).
    `published` is what partners get: rendered, sanitised HTML per locale, frozen at
    the last publish, so editing a published item changes nothing for partners
    until it is published again. `version` increases on every publish.
    `updated_at` is the last change a partner can see (publish or retire); it only
    moves forward, in commit order (see service._bump_state).
    """

    __tablename__ = "content_items"
    __table_args__ = (Index("ix_content_items_updated", "updated_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=0)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_revision: Mapped[int] = mapped_column(Integer, default=1)
    published: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))

    @property
    def pending_changes(self) -> bool:
        """The draft differs from what partners see."""
        return self.status != "published" or self.draft_revision != self.published_revision

    @property
    def editor_links(self) -> dict[str, str]:
        return {"self": f"/v1/admin/content/{self.public_id}"}


class ContentState(Base):
    """One row: a counter bumped by every publish or retire.

    API workers compare its token with the catalogue they hold in memory, at most
    once per `content_version_ttl_seconds`, instead of querying items per request.
    """

    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContentPull(Base):
    """How often a partner pulled an item in a locale on a UTC day (aggregated in memory)."""

    __tablename__ = "content_pulls"
    __table_args__ = (UniqueConstraint("day", "partner_id", "item_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    pulls: Mapped[int] = mapped_column(Integer, default=0)
    revalidations: Mapped[int] = mapped_column(Integer, default=0)

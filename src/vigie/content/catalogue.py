"""The published catalogue as an immutable in-memory value, and the representations built from it.

A worker loads the catalogue once per content version (see memory.py) and answers
every partner read from it: filtering, locale choice, pagination, tombstones and
feeds are pure functions of (catalogue, request, time). Awareness content is a
few hundred items at most, so the whole published snapshot fits in memory.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigie.content import locales
from vigie.pagination import Key, Keyset

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# The partners' list, served from memory: by last change, then id (cursor letters "u", "i").
# No columns: the catalogue only decodes and encodes cursors with it.
BY_CHANGE = Keyset(Key("u", None, datetime), Key("i", None))


@dataclass(frozen=True)
class Entry:
    """One item as partners may see it (a published or retired snapshot)."""

    id: int
    public_id: str
    status: str  # published | retired
    version: int
    kind: str
    audiences: tuple[str, ...]
    exploitation: tuple[str, ...]
    campaigns: tuple[str, ...]
    published_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    translations: dict[str, dict[str, Any]]
    locales: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locales", frozenset(self.translations))

    def visible(self, now: datetime) -> bool:
        return self.status == "published" and (self.expires_at is None or self.expires_at > now)

    def changed_at(self, now: datetime) -> datetime:
        """When a partner's copy last had to change: publish, retire or expiry."""
        if self.status == "published" and self.expires_at is not None and self.expires_at <= now:
            return self.expires_at
        return self.updated_at

    def matches(self, filters: Filters) -> bool:
        return (
            (filters.audience is None or filters.audience in self.audiences)
            and (filters.kind is None or filters.kind == self.kind)
            and (filters.campaign is None or filters.campaign in self.campaigns)
        )


@dataclass(frozen=True)
class Filters:
    audience: str | None = None
    kind: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Representation:
    """A ready-to-send body with its validators; what the response cache holds."""

    body: bytes
    etag: str
    last_modified: datetime
    content_language: str
    pulled: tuple[tuple[int, str], ...]  # (item id, locale) delivered, for pull counting
    next_cursor: str | None = None


Row = tuple[datetime, int, Entry]  # (last change, item id, entry): a listing row


class Catalogue:
    def __init__(self, token: str, entries: Sequence[Entry]) -> None:
        self.token = token
        self.entries = sorted(entries, key=lambda e: (e.updated_at, e.id))
        self.by_public_id = {e.public_id: e for e in self.entries}
        self.locales = frozenset(tag for e in self.entries for tag in e.locales)
        expiries = {e.expires_at for e in self.entries if e.expires_at and e.status == "published"}
        self._boundaries = sorted(expiries)

    def epoch(self, now: datetime) -> int:
        """How many expiry instants have passed: part of every cache key."""
        return bisect.bisect_right(self._boundaries, now)

    def last_modified(self, now: datetime) -> datetime:
        """Of the whole catalogue: any change anywhere moves it (coarse but never stale)."""
        latest = max((e.changed_at(now) for e in self.entries), default=EPOCH)
        return max(latest, EPOCH)

    # -- partner views ----------------------------------------------------------

    def listing(
        self,
        *,
        filters: Filters,
        order: tuple[str, ...],
        updated_since: datetime | None,
        limit: int,
        cursor: str | None,
        now: datetime,
    ) -> Representation:
        """One page, by last change (oldest first, so a sync can resume where it stopped)."""
        rows = self._changes(filters=filters, updated_since=updated_since, now=now)
        after = BY_CHANGE.decode(cursor)
        if after is not None:
            rows = [row for row in rows if (row[0], row[1]) > after]
        page = rows[:limit]
        next_cursor = BY_CHANGE.encode(page[-1][:2]) if len(rows) > limit else None
        items, pulled, served = _page_items(page, order=order, now=now)
        return _represent(
            items,
            last_modified=self.last_modified(now),
            languages=served or [order[0] if order else "fr"],
            pulled=pulled,
            next_cursor=next_cursor,
            extent=_extent(rows),
        )

    def _changes(
        self, *, filters: Filters, updated_since: datetime | None, now: datetime
    ) -> list[Row]:
        """The filter's items by last change: the visible ones, or every change after a time."""
        rows: list[Row] = []
        for entry in self.entries:
            if not entry.matches(filters):
                continue
            when = entry.changed_at(now)
            wanted = entry.visible(now) if updated_since is None else when > updated_since
            if wanted:
                rows.append((when, entry.id, entry))
        rows.sort(key=lambda row: (row[0], row[1]))
        return rows

    def item(self, public_id: str) -> Entry | None:
        return self.by_public_id.get(public_id)

    def feed_entries(
        self, *, filters: Filters, order: tuple[str, ...], now: datetime
    ) -> list[tuple[Entry, str]]:
        """Visible items of the filter, newest change first, each with its served locale."""
        chosen = [e for e in self.entries if e.matches(filters) and e.visible(now)]
        chosen.sort(key=lambda e: (e.updated_at, e.id), reverse=True)
        return [(e, locales.pick(order, e.locales) or min(e.locales)) for e in chosen]


def _page_items(
    page: list[Row], *, order: tuple[str, ...], now: datetime
) -> tuple[list[dict[str, Any]], list[tuple[int, str]], list[str]]:
    """A page's items (or tombstones), the (item, locale) pairs delivered, the locales served."""
    items: list[dict[str, Any]] = []
    pulled: list[tuple[int, str]] = []
    served: list[str] = []
    for when, _, entry in page:
        if not entry.visible(now):
            items.append(tombstone(entry, when))
            continue
        locale = locales.pick(order, entry.locales) or min(entry.locales)
        items.append(item_view(entry, locale))
        pulled.append((entry.id, locale))
        if locale not in served:
            served.append(locale)
    return items, pulled, served


def item_view(entry: Entry, locale: str) -> dict[str, Any]:
    text = entry.translations[locale]
    return {
        "id": entry.public_id,
        "status": "published",
        "version": entry.version,
        "kind": entry.kind,
        "audiences": list(entry.audiences),
        "exploitation": list(entry.exploitation),
        "campaigns": list(entry.campaigns),
        "locale": locale,
        "available_locales": sorted(entry.locales),
        "title": text["title"],
        "summary": text["summary"],
        "body_html": text["body_html"],
        "media": text.get("media") or [],
        "call_to_action": text.get("call_to_action"),
        "published_at": entry.published_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "links": {"self": f"/v1/content/{entry.public_id}"},
    }


def tombstone(entry: Entry, when: datetime) -> dict[str, Any]:
    """What a partner's copy needs to drop an item: retired by an editor or past its expiry."""
    status = "retired" if entry.status == "retired" else "expired"
    return {"id": entry.public_id, "status": status, "updated_at": when.isoformat()}


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def strong_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def _extent(rows: list[Row]) -> bytes:
    """What changes when anything in a listing does: its length and its latest change (rows
    come by change). A page's ETag covers it, so polling the first page with If-None-Match
    notices a change on any later page too (an item retired there, one published at the end)."""
    if not rows:
        return b"0"
    when, item_id, _ = rows[-1]
    return f"{len(rows)}:{when.isoformat()}:{item_id}".encode()


def _represent(
    value: Any,
    *,
    last_modified: datetime,
    languages: list[str],
    pulled: list[tuple[int, str]],
    next_cursor: str | None = None,
    extent: bytes = b"",
) -> Representation:
    """`extent`: of the list a page belongs to (`_extent`); its ETag covers it."""
    body = dumps(value)
    return Representation(
        body=body,
        etag=strong_etag(body + extent),
        last_modified=last_modified,
        content_language=", ".join(languages),
        pulled=tuple(pulled),
        next_cursor=next_cursor,
    )


def single(entry: Entry, *, order: tuple[str, ...]) -> Representation:
    locale = locales.pick(order, entry.locales) or min(entry.locales)
    return _represent(
        item_view(entry, locale),
        last_modified=max(entry.updated_at, EPOCH),
        languages=[locale],
        pulled=[(entry.id, locale)],
    )


def represent(
    body: bytes, *, last_modified: datetime, languages: list[str], pulled: list[tuple[int, str]]
) -> Representation:
    """A representation for an already serialised body (the feeds)."""
    return Representation(
        body=body,
        etag=strong_etag(body),
        last_modified=max(last_modified, EPOCH),
        content_language=", ".join(languages),
        pulled=tuple(pulled),
    )

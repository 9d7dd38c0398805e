"""Awareness content: editors' drafts, publishing, and the snapshot partners read."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vigie import clock
from vigie.content import render
from vigie.content.catalogue import EPOCH, Catalogue, Entry
from vigie.content.models import ContentItem, ContentPull, ContentState
from vigie.db import get_or_404
from vigie.errors import Conflict, field_error
from vigie.ids import new_id
from vigie.outbox import service as outbox
from vigie.pagination import Key, Keyset, Page
from vigie.partners.models import Partner

EDITABLE = ("kind", "audiences", "exploitation", "campaigns", "expires_at")
STATE_ROW = 1
TICK = timedelta(microseconds=1)
BY_ID = Keyset(Key("i", ContentItem.id))  # the editors' list (cursor letter "i")


# -- editors ------------------------------------------------------------------


def _document(data: Mapping[str, Any]) -> dict[str, Any]:
    """The editor document as stored (JSON-ready: datetimes as RFC 3339 strings)."""
    doc: dict[str, Any] = {
        "kind": data["kind"],
        "audiences": list(data["audiences"]),
        "exploitation": list(data.get("exploitation") or []),
        "campaigns": list(data.get("campaigns") or []),
        "expires_at": _iso(data.get("expires_at")),
        "translations": copy.deepcopy(dict(data["translations"])),
    }
    return doc


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def create(*, session: Session, data: Mapping[str, Any], operator_id: int | None) -> ContentItem:
    """A new draft. `key` (optional) is a stable name used by imports; it must be unique."""
    key = data.get("key")
    if key is not None and session.scalar(select(ContentItem.id).where(ContentItem.key == key)):
        raise Conflict(f"An item with key {key!r} already exists.")
    now = clock.now()
    doc = _document(data)
    item = ContentItem(
        public_id=new_id("cnt"),
        key=key,
        status="draft",
        version=0,
        draft=doc,
        draft_revision=1,
        published=None,
        published_revision=0,
        created_at=now,
        edited_at=now,
        expires_at=_parse(doc["expires_at"]),
        created_by_id=operator_id,
    )
    session.add(item)
    session.flush()
    return item


def get(*, session: Session, item_id: str) -> ContentItem:
    return get_or_404(session, ContentItem, item_id, what="content item")


def update(
    *, session: Session, item_id: str, data: Mapping[str, Any], operator_id: int | None
) -> ContentItem:
    """Change the draft. Partners see nothing until the item is published again.

    `translations` is merged by locale: a locale given replaces that translation,
    a locale set to null removes it; other locales are kept.
    """
    item = get(session=session, item_id=item_id)
    doc = _edited(item.draft, data)
    if "key" in data and data["key"] != item.key:
        raise Conflict("The key of an item cannot change.")
    if doc != item.draft:
        item.draft = doc
        item.draft_revision += 1
        item.edited_at = clock.now()
    return item


def _edited(draft: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the draft with the changes of `data` (translations merged by locale)."""
    doc = copy.deepcopy(draft)
    for name in EDITABLE:
        if name in data:
            doc[name] = _stored(name, data[name])
    for locale, translation in (data.get("translations") or {}).items():
        if translation is None:
            doc["translations"].pop(locale, None)
        else:
            doc["translations"][locale] = copy.deepcopy(translation)
    return doc


def _stored(name: str, value: Any) -> Any:
    """An editable field's value as the draft document stores it."""
    if name == "expires_at":
        return _iso(value)
    if name == "kind":
        return value
    return list(value or [])


def _publish_problems(doc: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    translations = doc["translations"]
    if "fr" not in translations:
        problems.append(field_error("translations.fr", "A French translation is required."))
    for locale, text in translations.items():
        for position, media in enumerate(text.get("media") or []):
            if not str(media["url"]).startswith("https://"):
                problems.append(
                    field_error(
                        f"translations.{locale}.media[{position}].url", "Media links must be https."
                    )
                )
        action = text.get("call_to_action") or {}
        if action.get("url") and not str(action["url"]).startswith("https://"):
            problems.append(
                field_error(f"translations.{locale}.call_to_action.url", "Links must be https.")
            )
    expires = _parse(doc.get("expires_at"))
    if expires is not None and expires <= now:
        problems.append(field_error("expires_at", "The item would already be expired."))
    return problems


def _bump_state(session: Session) -> datetime:
    """Take the content lock, bump the version and return a strictly increasing instant.

    The row lock (PostgreSQL `FOR UPDATE`; SQLite writers are already serialised by
    BEGIN IMMEDIATE) orders publishers, so `updated_at` grows in commit order and a
    partner's `updated_since` never skips a change committed later with an older time.
    """
    state = session.get(ContentState, STATE_ROW, with_for_update=True)
    if state is None:  # first publish ever (or emptied tables): create the row, race-free
        session.execute(
            _insert(session)(ContentState)
            .values(id=STATE_ROW, version=0, changed_at=EPOCH)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        state = session.get(ContentState, STATE_ROW, with_for_update=True, populate_existing=True)
        if state is None:
            raise RuntimeError("content_state row missing after insert")
    now = clock.now()
    if now <= state.changed_at:
        now = state.changed_at + TICK
    state.version += 1
    state.changed_at = now
    return now


def _insert(session: Session) -> Any:
    """INSERT with ON CONFLICT for the session's engine (PostgreSQL or SQLite)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _snapshot(doc: Mapping[str, Any]) -> dict[str, Any]:
    translations = {}
    for locale, text in sorted(doc["translations"].items()):
        translations[locale] = {
            "title": text["title"],
            "summary": text["summary"],
            "body_html": render.to_html(text["body_markdown"]),
            "media": text.get("media") or [],
            "call_to_action": text.get("call_to_action"),
        }
    return {
        "kind": doc["kind"],
        "audiences": doc["audiences"],
        "exploitation": doc.get("exploitation") or [],
        "campaigns": doc.get("campaigns") or [],
        "expires_at": doc.get("expires_at"),
        "translations": translations,
    }


def publish(*, session: Session, item_id: str, operator_id: int | None) -> tuple[ContentItem, bool]:
    """Publish the draft: validate, render, bump the version, emit `content.published`.

    Returns (item, changed); publishing an unchanged published item changes nothing.
    """
    item = get(session=session, item_id=item_id)
    if not item.pending_changes:
        return item, False
    problems = _publish_problems(item.draft, clock.now())
    if problems:
        raise Conflict(
            "The item cannot be published: " + "; ".join(p["detail"] for p in problems),
            errors=problems,
        )
    now = _bump_state(session)
    item.published = _snapshot(item.draft)
    item.published_revision = item.draft_revision
    item.status = "published"
    item.version += 1
    item.published_at = item.published_at or now
    item.expires_at = _parse(item.draft.get("expires_at"))
    item.retired_at = None
    item.updated_at = now
    item.published_by_id = operator_id
    outbox.emit(
        session=session,
        event_type="content.published",
        data={
            "id": item.public_id,
            "version": item.version,
            "kind": item.published["kind"],
            "audiences": item.published["audiences"],
            "locales": sorted(item.published["translations"]),
            "updated_at": now.isoformat(),
            "links": {"self": f"/v1/content/{item.public_id}"},
        },
        partner_id=None,
    )
    return item, True


def retire(*, session: Session, item_id: str, operator_id: int | None) -> tuple[ContentItem, bool]:
    """Withdraw a published item; partners syncing with updated_since get a tombstone."""
    item = get(session=session, item_id=item_id)
    if item.status == "retired":
        return item, False
    if item.status != "published":
        raise Conflict("Only a published item can be retired; this one was never published.")
    now = _bump_state(session)
    item.status = "retired"
    item.retired_at = now
    item.updated_at = now
    item.published_by_id = operator_id
    outbox.emit(
        session=session,
        event_type="content.retired",
        data={
            "id": item.public_id,
            "version": item.version,
            "updated_at": now.isoformat(),
            "links": {"self": f"/v1/content/{item.public_id}"},
        },
        partner_id=None,
    )
    return item, True


def list_(
    *, session: Session, status: str | None, limit: int, cursor: str | None
) -> Page[ContentItem]:
    """Every item for editors, oldest first."""
    query = select(ContentItem)
    if status is not None:
        query = query.where(ContentItem.status == status)
    return BY_ID.page(session, query, limit=limit, cursor=cursor)


def load(
    *, session: Session, documents: Sequence[Mapping[str, Any]], publish_items: bool = True
) -> dict[str, int]:
    """Import items by their stable `key`: create, update the draft, publish if asked.

    Re-running with the same file changes nothing. Items an editor retired stay retired.
    """
    counts = {"created": 0, "updated": 0, "published": 0, "unchanged": 0, "skipped_retired": 0}
    for data in documents:
        if not data.get("key"):
            raise Conflict("Every imported item needs a stable key.")
        existing = session.scalar(select(ContentItem).where(ContentItem.key == data["key"]))
        if existing is None:
            item = create(session=session, data=data, operator_id=None)
            counts["created"] += 1
        elif existing.status == "retired":
            counts["skipped_retired"] += 1
            continue
        else:
            before = existing.draft_revision
            item = update(
                session=session,
                item_id=existing.public_id,
                data={k: v for k, v in data.items() if k != "key"},
                operator_id=None,
            )
            counts["updated" if item.draft_revision != before else "unchanged"] += 1
        if publish_items:
            _, changed = publish(session=session, item_id=item.public_id, operator_id=None)
            counts["published"] += int(changed)
    return counts


# -- partners -----------------------------------------------------------------


def state_token(*, session: Session) -> str:
    """The cheap version of the whole catalogue (one primary-key read)."""
    row = session.execute(
        select(ContentState.version, ContentState.changed_at).where(ContentState.id == STATE_ROW)
    ).first()
    return "0" if row is None else f"{row.version}:{row.changed_at.isoformat()}"


def catalogue(*, session: Session) -> Catalogue:
    """Everything partners may see (published items and the tombstones of retired ones)."""
    token = state_token(session=session)
    rows = session.scalars(
        select(ContentItem).where(
            ContentItem.status.in_(("published", "retired")), ContentItem.published.is_not(None)
        )
    )
    entries = []
    for item in rows:
        snap = item.published or {}
        published_at, updated_at = item.published_at, item.updated_at
        if published_at is None or updated_at is None:  # not possible once published
            continue
        entries.append(
            Entry(
                id=item.id,
                public_id=item.public_id,
                status=item.status,
                version=item.version,
                kind=snap["kind"],
                audiences=tuple(snap["audiences"]),
                exploitation=tuple(snap["exploitation"]),
                campaigns=tuple(snap["campaigns"]),
                published_at=published_at,
                updated_at=updated_at,
                expires_at=_parse(snap.get("expires_at")),
                translations=snap["translations"],
            )
        )
    return Catalogue(token, entries)


def add_pulls(*, session: Session, counts: Mapping[tuple[date, int, int, str], list[int]]) -> None:
    """Add aggregated pull counts (one upsert per key)."""
    if not counts:
        return
    rows = [
        {
            "day": day,
            "partner_id": partner_id,
            "item_id": item_id,
            "locale": locale,
            "pulls": pulls,
            "revalidations": revalidations,
        }
        for (day, partner_id, item_id, locale), (pulls, revalidations) in counts.items()
    ]
    existing_items = set(
        session.scalars(
            select(ContentItem.id).where(ContentItem.id.in_({r["item_id"] for r in rows}))
        )
    )
    existing_partners = set(
        session.scalars(select(Partner.id).where(Partner.id.in_({r["partner_id"] for r in rows})))
    )
    rows = [
        r for r in rows if r["item_id"] in existing_items and r["partner_id"] in existing_partners
    ]
    if not rows:
        return
    statement = _insert(session)(ContentPull).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "partner_id", "item_id", "locale"],
        set_={
            "pulls": ContentPull.pulls + statement.excluded.pulls,
            "revalidations": ContentPull.revalidations + statement.excluded.revalidations,
        },
    )
    session.execute(statement)


def pulls_by_partner(*, session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Content pulls per partner over [start, end] (UTC days, inclusive), most pulls first.

    `pulls` counts items delivered (200), `revalidations` items confirmed unchanged
    (304), `items` the distinct items delivered or confirmed. Counts written by API
    workers in batches, so the last `content_pull_flush_seconds` may be missing.
    """
    total = func.sum(ContentPull.pulls)
    query = (
        select(
            Partner.public_id,
            Partner.name,
            total.label("pulls"),
            func.sum(ContentPull.revalidations).label("revalidations"),
            func.count(func.distinct(ContentPull.item_id)).label("items"),
        )
        .join(Partner, Partner.id == ContentPull.partner_id)
        .where(ContentPull.day >= start, ContentPull.day <= end)
        .group_by(Partner.public_id, Partner.name)
        .order_by(total.desc(), Partner.public_id)
    )
    return [
        {
            "partner_id": row.public_id,
            "partner_name": row.name,
            "pulls": int(row.pulls or 0),
            "revalidations": int(row.revalidations or 0),
            "items": int(row.items or 0),
        }
        for row in session.execute(query)
    ]

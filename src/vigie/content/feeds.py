"""Atom (RFC 4287, built with feedgen) and JSON Feed 1.1 (a few lines of dicts).

No maintained JSON Feed library exists on PyPI (the packages there are
unmaintained 2017-2018 code), and the format is a plain JSON object, so we build
it here. Entries are the visible items of the filter, newest change first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from vigie.content.catalogue import EPOCH, Entry, dumps

TITLES = {
    "fr": "Vigie : contenus de sensibilisation",
    "en": "Vigie: awareness content",
}
AUTHOR = {"name": "MIPROF"}
FEED_ID = "urn:vigie:content"
FILTERS = ("audience", "campaign", "kind")  # what makes one feed another (not the page, host)


class _Entry(FeedEntry):
    """feedgen 1.0.0 drops rel/type/length of entry links (a shadowed variable in
    atom_entry), which would turn enclosures into extra alternate links; rewrite them."""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        atom = entry.tag.rsplit("}", 1)[0] + "}" if "}" in entry.tag else ""
        for element in entry.findall(f"{atom}link"):
            entry.remove(element)
        for link in self.link() or []:
            attributes = {
                k: str(link[k]) for k in ("href", "rel", "type", "title", "length") if link.get(k)
            }
            etree.SubElement(entry, f"{atom}link", attributes)
        return entry


def _title(language: str) -> str:
    return TITLES.get(language, TITLES["en"])


def _entry_id(entry: Entry) -> str:
    return f"urn:vigie:content:{entry.public_id}"


def _feed_id(self_url: str, language: str) -> str:
    """One id per feed: its language and its filters, in a fixed order, read from its URL."""
    query = dict(parse_qsl(urlsplit(self_url).query))
    parts = [language] if language else []
    parts += [f"{name}={query[name]}" for name in FILTERS if query.get(name)]
    return ":".join([FEED_ID, *parts])


def _updated(entries: Sequence[tuple[Entry, str]]) -> datetime:
    return max((e.updated_at for e, _ in entries), default=EPOCH)


def atom(
    entries: Sequence[tuple[Entry, str]], *, base_url: str, self_url: str, language: str
) -> bytes:
    feed = FeedGenerator()
    feed.id(_feed_id(self_url, language))
    feed.title(_title(language))
    feed.author(AUTHOR)
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.language(language)
    feed.updated(_updated(entries))
    feed.generator("Vigie")
    for item, locale in reversed(entries):  # feedgen prepends: keep newest first
        text = item.translations[locale]
        fe = feed.add_entry(_Entry())
        fe.id(_entry_id(item))
        fe.title(text["title"])
        fe.summary(text["summary"])
        fe.content(text["body_html"], type="html")
        # The item as JSON (read with the same key as the feed); there is no HTML page of it.
        fe.link(
            href=f"{base_url}/v1/content/{item.public_id}?locale={locale}",
            rel="alternate",
            type="application/json",
        )
        fe.published(item.published_at)
        fe.updated(item.updated_at)
        for term in (item.kind, *item.audiences, *item.campaigns):
            fe.category(term=term)
        for media in text.get("media") or []:
            fe.link(
                href=media["url"],
                rel="enclosure",
                type=media["mime_type"],
                length=str(media.get("bytes", "")) or None,
                title=media["alt"],
            )
    body: bytes = feed.atom_str(pretty=False)
    return body


def json_feed(
    entries: Sequence[tuple[Entry, str]], *, base_url: str, self_url: str, language: str
) -> bytes:
    items: list[dict[str, Any]] = []
    for item, locale in entries:
        text = item.translations[locale]
        entry: dict[str, Any] = {
            "id": _entry_id(item),
            "url": f"{base_url}/v1/content/{item.public_id}?locale={locale}",
            "title": text["title"],
            "summary": text["summary"],
            "content_html": text["body_html"],
            "date_published": item.published_at.isoformat(),
            "date_modified": item.updated_at.isoformat(),
            "tags": [item.kind, *item.audiences, *item.campaigns],
            "language": locale,
        }
        attachments = [
            {
                key: value
                for key, value in {
                    "url": media["url"],
                    "mime_type": media["mime_type"],
                    "title": media["alt"],
                    "size_in_bytes": media.get("bytes"),
                }.items()
                if value is not None
            }
            for media in text.get("media") or []
        ]
        if attachments:
            entry["attachments"] = attachments
        items.append(entry)
    return dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": _title(language),
            "feed_url": self_url,
            "language": language,
            "authors": [{"name": AUTHOR["name"]}],
            "items": items,
        }
    )

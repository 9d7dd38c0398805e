"""Locale negotiation: `locale=` wins, else Accept-Language by quality, else fr; fallback fr, en.

Each item is served in the first locale of the caller's preference list that it
has. The preference list is reduced to the locales the catalogue actually holds
(babel's matching: exact tag, then the language alone), which keeps it short
enough to be part of a cache key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")
FALLBACK = ("fr", "en")
MAX_PREFERENCES = 8


def is_tag(value: str) -> bool:
    return bool(BCP47.match(value))


def canonical(tag: str) -> str:
    """The canonical form of a tag babel knows (`ZH-hans` -> `zh-Hans`); ValueError otherwise."""
    if not is_tag(tag):
        raise ValueError(f"{tag!r} is not a BCP 47 language tag.")
    try:
        return str(Locale.parse(tag, sep="-")).replace("_", "-")
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"{tag!r} is not a known locale.") from None


def requested(locale: str | None, accept_language: str | None) -> tuple[str, ...]:
    """The caller's preferences, best first."""
    if locale:
        return (locale,)
    if not accept_language:
        return ()
    return _accept(accept_language)


@lru_cache(maxsize=512)
def _accept(header: str) -> tuple[str, ...]:
    parsed = parse_accept_header(header, LanguageAccept)
    tags = [value for value, quality in parsed if quality > 0 and value != "*"]
    return tuple(tag for tag in tags if is_tag(tag))[:MAX_PREFERENCES]


@lru_cache(maxsize=2048)
def effective(preferences: tuple[str, ...], available: frozenset[str]) -> tuple[str, ...]:
    """Preferences mapped onto the available locales, then the fallbacks; no duplicates."""
    out: list[str] = []
    ordered = sorted(available)
    by_lower = {tag.lower(): tag for tag in ordered}
    for tag in (*preferences, *FALLBACK):
        match = negotiate_locale([tag], ordered, sep="-")
        found = by_lower.get(match.lower()) if match is not None else None
        if found is not None and found not in out:
            out.append(found)
    return tuple(out)


def pick(order: Sequence[str], has: Iterable[str]) -> str | None:
    """The first locale of `order` the item has."""
    present = set(has)
    for tag in order:
        if tag in present:
            return tag
    return None

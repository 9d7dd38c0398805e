"""A partner's slug: the name in its embeddable form's URL (`/embed/<slug>/report`).

By default the name in lower case, accents removed, every other run of characters a hyphen:
`Gîtes de France` → `gites-de-france`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_LENGTH = 80


def slugify(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:MAX_LENGTH].strip("-")
    return slug or "partenaire"


def unique_slug(name: str, taken: Collection[str]) -> str:
    """The name's slug, with -2, -3… when another partner already has it."""
    base = slugify(name)
    slug, n = base, 1
    while slug in taken:
        n += 1
        suffix = f"-{n}"
        slug = base[: MAX_LENGTH - len(suffix)] + suffix
    return slug

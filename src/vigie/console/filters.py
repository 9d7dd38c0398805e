"""The filters of a list page, read from its URL by the API's own query schema.

A page never refuses itself for a bad filter: an invalid value is dropped, the others kept,
and the page says so (`BAD_FILTER`), as the queue first did.
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

BAD_FILTER = "Un filtre n'est pas valide ; il a été ignoré."


def parse_filters(schema: Schema, names: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """The URL's values of `names` loaded by `schema`; invalid ones dropped, and said."""
    given = {k: v for k, v in request.args.items() if v != "" and k in names}
    try:
        return schema.load(given), []
    except ValidationError as error:
        bad = set(error.messages) if isinstance(error.messages, dict) else set(given)
        kept = {k: v for k, v in given.items() if k not in bad}
        return schema.load(kept), [BAD_FILTER]

"""What the adapters of this package share: reading a native payload with marshmallow and
naming what is wrong with it by JSON pointers into it.

A native payload is described by a marshmallow schema in the partner's own field names
(`NativeSchema`): types are checked strictly, unknown fields are refused (keys starting
with `_` are annotations and ignored), and partner codes go through `Code`, which refuses
a code it does not know by naming it. `load` turns marshmallow's messages into
`NativeInvalid` errors, one per native field.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

from vigie.integrations import BODY, NativeError, NativeInvalid, pointer

ECHO_MAX = 64  # characters of a refused value quoted back in an error


def quoted(value: str) -> str:
    """A refused value as an error quotes it: shortened, so a huge string is not echoed."""
    return repr(value if len(value) <= ECHO_MAX else value[:ECHO_MAX] + "…")


def errors_from_messages(messages: Any, parts: tuple[str | int, ...] = ()) -> list[NativeError]:
    """marshmallow's nested messages as errors at JSON pointers (`_schema` is the object)."""
    if isinstance(messages, Mapping):
        found: list[NativeError] = []
        for key, value in messages.items():
            inner = parts if key == "_schema" else (*parts, key)
            found.extend(errors_from_messages(value, inner))
        return found
    if isinstance(messages, list):
        return [e for item in messages for e in errors_from_messages(item, parts)]
    return [NativeError(pointer(*parts) if parts else BODY, str(messages))]


def load(schema: Schema, payload: Any) -> dict[str, Any]:
    """The payload loaded by `schema`, or NativeInvalid naming each bad native field."""
    try:
        loaded: dict[str, Any] = schema.load(payload)
    except ValidationError as error:
        raise NativeInvalid(errors_from_messages(error.messages)) from None
    return loaded


class NativeSchema(Schema):
    """A partner's object: unknown fields refused, `_`-prefixed annotations ignored."""

    error_messages = {"type": "Must be a JSON object."}

    class Meta:
        unknown = RAISE

    @pre_load
    def _drop_annotations(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(k, str) and k[:1] == "_")}
        return data


class Integer(fields.Integer):
    """A JSON integer: not a float, a string or a boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result: int = super()._deserialize(value, attr, data, **kwargs)
        return result


class Boolean(fields.Boolean):
    """A JSON true or false, nothing that merely looks like one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(truthy={True}, falsy={False}, **kwargs)


class String(fields.String):
    """A JSON string, at most `max_length` characters (refused beyond, never cut)."""

    def __init__(self, *, max_length: int = 5000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result: str = super()._deserialize(value, attr, data, **kwargs)
        if len(result) > self.max_length:
            raise ValidationError(f"Longer than {self.max_length} characters.")
        return result


class Code(fields.Field[Any]):
    """One of the partner's codes, mapped to our value; an unknown code is named, never dropped.

    `normalise` is applied to the sent value and to the table's keys before matching
    (e.g. accents, case and spaces ignored for labels typed by people).
    """

    def __init__(
        self,
        table: Mapping[str, Any],
        *,
        normalise: Callable[[str], str] = str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.normalise = normalise
        self.table = {normalise(key): value for key, value in table.items()}
        self.known = list(table)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError("Not a valid string.")
        found = self.table.get(self.normalise(value), _MISSING)
        if found is _MISSING:
            known = ", ".join(self.known)
            raise ValidationError(f"Unknown value {quoted(value)}; known values: {known}.")
        return found


_MISSING = object()


def plain_text(value: str) -> str:
    """A label as people type it, for matching: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return " ".join(bare.casefold().split())


def language(tag: str) -> str:
    """The language of a locale (`fr-FR`, `fr_FR`, `FR` -> `fr`), as the canonical report wants."""
    return tag.replace("_", "-").split("-")[0].lower()


def iso(value: date | datetime) -> str:
    return value.isoformat()


def example(package_file: str) -> dict[str, Any]:
    """The sample payload beside an adapter's module, without its `_` annotations."""
    sample = json.loads((Path(package_file).parent / "sample.json").read_text("utf-8"))
    return {k: v for k, v in sample.items() if not k.startswith("_")}


class Origins(dict[str, str]):
    """Canonical path -> native pointer, filled as the mapping goes."""

    def add(self, canonical: str, *native: str | int) -> None:
        self[canonical] = pointer(*native) if native else BODY

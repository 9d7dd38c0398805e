"""The network's flat French form, in its own field names.

Forms send text: counts may come as `"11"` as well as `11`, dates as `2026-11-22` or
`22/11/2026`, times as `18:30` or `18h30`. Anything else is refused, naming the field.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from integrations.gites_de_france.labels import MINORS, SIGNS, TYPES, YES_NO
from integrations.native import Code, NativeSchema, String, plain_text, quoted

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
TIME = re.compile(r"^(\d{1,2})\s*(?::\s*(\d{2})|[hH]\s*(\d{2})?)$")
COUNT = re.compile(r"^\d{1,6}$")


class FormDate(fields.Field[date]):
    """A date as `2026-11-22` or `22/11/2026`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str):
            raise ValidationError("Not a valid date (2026-11-22 or 22/11/2026).")
        text = value.strip()
        iso, french = ISO_DATE.match(text), FRENCH_DATE.match(text)
        try:
            if iso:
                return date(int(iso[1]), int(iso[2]), int(iso[3]))
            if french:
                return date(int(french[3]), int(french[2]), int(french[1]))
        except ValueError:
            pass
        raise ValidationError(f"Not a valid date: {quoted(value)} (2026-11-22 or 22/11/2026).")


class FormTime(fields.Field[time]):
    """A time of day as `18:30` or `18h30` (`18h` is 18:00)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        match = TIME.match(value.strip()) if isinstance(value, str) else None
        if match:
            hour, minute = int(match[1]), int(match[2] or match[3] or 0)
            if hour < 24 and minute < 60:
                return time(hour, minute)
        shown = quoted(value) if isinstance(value, str) else "this value"
        raise ValidationError(f"Not a valid time: {shown} (18:30 or 18h30).")


class FormCount(fields.Field[int]):
    """A number of people, as a JSON integer or digits in a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and COUNT.match(value.strip()):
            return int(value.strip())
        raise ValidationError("Not a valid number of people.")


class OneOrMany(fields.List[Any]):
    """A list of answers, or a single answer where the form sent one tick as a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):
            return [self.inner.deserialize(value, **kwargs)]
        result: list[Any] = super()._deserialize(value, attr, data, **kwargs)
        return result


def _answer(table: dict[str, Any], **kwargs: Any) -> Code:
    return Code(table, normalise=plain_text, **kwargs)


class FormSchema(NativeSchema):
    gite_numero = String(required=True, max_length=64)
    code_postal = String(required=True, max_length=16)
    date_observation = FormDate(required=True)
    heure_observation = FormTime(required=True)
    arrivee = FormDate(required=True)
    depart = FormDate(required=True)
    nb_personnes_reservation = FormCount(required=True)
    nb_personnes_vues = FormCount(required=True)
    mineurs = _answer(MINORS, required=True)
    danger_immediat = _answer(YES_NO, required=True)
    signes = OneOrMany(_answer(SIGNS), required=True)
    type_suspecte = OneOrMany(_answer(TYPES), required=True)
    commentaire = String(load_default="")
    contact_ok = _answer(YES_NO, load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _stay(self, data: dict[str, Any], **_: Any) -> None:
        if "arrivee" in data and "depart" in data and data["depart"] < data["arrivee"]:
            raise ValidationError("depart must not be before arrivee.", "depart")

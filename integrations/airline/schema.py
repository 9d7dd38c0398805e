"""The airline's cabin-safety report, in its own field names."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate

from integrations.airline.codes import MINOR, OBSERVATIONS, POSITIONS, RISK_NOW
from integrations.native import Boolean, Code, Integer, NativeSchema, String, quoted

CARRIER = re.compile(r"^([A-Z]{2}|[A-Z][0-9]|[0-9][A-Z])$")
NUMBER = re.compile(r"^[0-9]{1,4}[A-Z]?$")
MAX_NUMBER = 9999


class FlightNumber(fields.Field[str]):
    """The number part of a flight number: `1047`, `"1047"` or `"1047A"`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_NUMBER:
            return str(value)
        if isinstance(value, str) and NUMBER.match(value):
            return value
        shown = quoted(value) if isinstance(value, str) else "this value"
        raise ValidationError(f"Not a flight number: {shown} (1 to 4 digits, one optional letter).")


class FlightSchema(NativeSchema):
    carrier = String(
        required=True,
        max_length=2,
        validate=validate.Regexp(CARRIER, error="Not an IATA airline designator (e.g. AF)."),
    )
    number = FlightNumber(required=True)
    date = fields.Date(required=True)
    dep = String(required=True, max_length=3)
    arr = String(required=True, max_length=3)
    seat_of_concern = String(max_length=8)  # read, not stored: a seat points at a passenger


class CrewSchema(NativeSchema):
    position = Code(POSITIONS, required=True)
    may_contact = Boolean(load_default=False)


class PaxSchema(NativeSchema):
    count = Integer(required=True)
    minor = Code(MINOR, required=True)
    est_age = Integer(validate=validate.Range(0, 120))  # read, not stored


class CrewReportSchema(NativeSchema):
    report_ref = String(required=True, max_length=128)
    filed_at = fields.AwareDateTime()  # read, not stored: the observation time is what counts
    flight = fields.Nested(FlightSchema, required=True)
    crew = fields.Nested(CrewSchema, required=True)
    observations = fields.List(Code(OBSERVATIONS), required=True)
    observed_at_local = fields.AwareDateTime(
        required=True,
        error_messages={"invalid_awareness": "Needs its UTC offset (e.g. 08:15:00+01:00)."},
    )
    pax = fields.Nested(PaxSchema, required=True)
    risk_now = Code(RISK_NOW, required=True)
    narrative = String(load_default="")
    lang = String(load_default="fr", max_length=35)

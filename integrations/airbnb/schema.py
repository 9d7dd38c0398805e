"""The platform's trust & safety case, in its own field names."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from integrations.airbnb.codes import CONCERNS, MINORS_PRESENT, REPORTER_TYPES, SUSPECTED_TYPES
from integrations.native import Boolean, Code, Integer, NativeSchema, String


class ListingId(fields.Field[str]):
    """The platform's listing id: a JSON integer or a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise ValidationError("Not a listing id (a non-negative integer or a string).")


class AddressSchema(NativeSchema):
    zipcode = String(required=True, max_length=16)
    city = String(max_length=200)
    country_code = String(load_default="FR", max_length=8)


class ListingSchema(NativeSchema):
    id = ListingId(required=True)
    address = fields.Nested(AddressSchema, required=True)
    max_guests = Integer()  # read, not stored: the reservation's guest count is what matters


class ReservationSchema(NativeSchema):
    confirmation_code = String(max_length=256)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    guests = Integer(required=True)

    @validates_schema(skip_on_field_errors=True)
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        if data["end_date"] < data["start_date"]:
            raise ValidationError("end_date must not be before start_date.", "end_date")


class ReportedBySchema(NativeSchema):
    type = Code(REPORTER_TYPES, required=True)
    consent_to_contact = Boolean(load_default=False)
    display_name = String(max_length=200)
    phone = String(max_length=64)
    email = String(max_length=254)


class CaseSchema(NativeSchema):
    case_id = String(required=True, max_length=128)
    created_at = fields.AwareDateTime(required=True)
    listing = fields.Nested(ListingSchema, required=True)
    reservation = fields.Nested(ReservationSchema, required=True)
    reported_by = fields.Nested(ReportedBySchema, required=True)
    concerns = fields.List(Code(CONCERNS), required=True)
    suspected_type = Code(SUSPECTED_TYPES, load_default="unknown")
    people_estimate = Integer(required=True)
    minors_present = Code(MINORS_PRESENT, required=True)
    immediate_danger = Boolean(required=True)
    details = String(load_default="")
    locale = String(load_default="fr", max_length=35)

"""The canonical report (input), what a partner may read back (output), and the vocabulary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from vigie import clock
from vigie.pagination import PageArgsSchema
from vigie.reports.models import COARSE_STATUSES
from vigie.reports.vocabulary import (
    CONTEXTS,
    DEPARTMENTS,
    EXPLOITATION_CODES,
    INDICATOR_BY_CODE,
    INDICATOR_CODES,
    REPORTER_ROLE_CODES,
    department_for_postcode,
)
from vigie.validators import in_range, instant

BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
FLIGHT_NUMBER = re.compile(r"^([A-Z]{2}|[A-Z][0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?$")
IATA_AIRPORT = re.compile(r"^[A-Z]{3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
FRENCH_POSTCODE = re.compile(r"^[0-9]{5}$")
OTHER_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,9}$")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=1)
MAX_BATCH = 100


def _distinct(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Codes must be distinct.")


def _printable(value: str) -> None:
    if not value.isprintable():
        raise ValidationError("Must contain printable characters only.")


class LocationSchema(Schema):
    country = fields.String(load_default="FR", validate=validate.Regexp(COUNTRY))
    postcode = fields.String(required=True)
    department = fields.String(validate=validate.OneOf(sorted(DEPARTMENTS)))
    commune = fields.String(validate=[validate.Length(1, 120), _printable])
    lat = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)

    @validates_schema(skip_on_field_errors=True)
    def _postcode_and_department(self, data: dict[str, Any], **_: Any) -> None:
        postcode, department = data["postcode"], data.get("department")
        if data["country"] != "FR":
            if not OTHER_POSTCODE.match(postcode):
                raise ValidationError("Not a valid postcode.", "postcode")
            if department is not None:
                raise ValidationError("Départements exist only for country FR.", "department")
            return
        if not FRENCH_POSTCODE.match(postcode):
            raise ValidationError("A French postcode has 5 digits.", "postcode")
        derived = department_for_postcode(postcode)
        if derived is None:
            raise ValidationError("This postcode belongs to no département.", "postcode")
        if department is not None and department != derived:
            raise ValidationError(
                f"Département {department} does not match postcode {postcode} ({derived}).",
                "department",
            )

    @post_load
    def _derive_department(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data["country"] == "FR":
            data.setdefault("department", department_for_postcode(data["postcode"]))
        return data


class StaySchema(Schema):
    listing_reference = fields.String(required=True, validate=[validate.Length(1, 256), _printable])
    booking_reference = fields.String(validate=[validate.Length(1, 256), _printable])
    check_in = fields.Date(required=True)
    check_out = fields.Date(required=True)
    guest_count = fields.Integer(required=True, strict=True, validate=validate.Range(1, 500))

    @validates_schema(skip_on_field_errors=True)
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        if data["check_out"] < data["check_in"]:
            raise ValidationError("check_out must not be before check_in.", "check_out")


class FlightSchema(Schema):
    flight_number = fields.String(
        required=True, validate=validate.Regexp(FLIGHT_NUMBER, error="Not an IATA flight number.")
    )
    flight_date = fields.Date(required=True)
    origin = fields.String(
        required=True, validate=validate.Regexp(IATA_AIRPORT, error="Not an IATA airport code.")
    )
    destination = fields.String(
        required=True, validate=validate.Regexp(IATA_AIRPORT, error="Not an IATA airport code.")
    )


class PersonsSchema(Schema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(1, 500))
    minors = fields.Integer(strict=True, allow_none=True, load_default=None)
    in_immediate_danger = fields.Boolean(required=True, truthy={True}, falsy={False})

    @validates_schema(skip_on_field_errors=True)
    def _minors(self, data: dict[str, Any], **_: Any) -> None:
        minors = data.get("minors")
        if minors is not None and not 0 <= minors <= data["count"]:
            raise ValidationError("minors must be between 0 and count.", "minors")


class ContactSchema(Schema):
    name = fields.String(validate=[validate.Length(1, 200), _printable])
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 ().-]{4,32}$"))
    email = fields.Email(validate=validate.Length(max=254))


class ReporterSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(REPORTER_ROLE_CODES))
    contact_consent = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    contact = fields.Nested(ContactSchema)

    @validates_schema(skip_on_field_errors=True)
    def _consent(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("contact") and not data["contact_consent"]:
            raise ValidationError("Contact details need contact_consent: true.", "contact")


class ReportSchema(Schema):
    """The canonical report a partner posts."""

    partner_reference = fields.String(required=True, validate=[validate.Length(1, 128), _printable])
    context = fields.String(required=True, validate=validate.OneOf(CONTEXTS))
    observed_at = fields.AwareDateTime(required=True, format="iso")
    location = fields.Nested(LocationSchema)
    stay = fields.Nested(StaySchema)
    flight = fields.Nested(FlightSchema)
    indicators = fields.List(
        fields.String(validate=validate.OneOf(INDICATOR_CODES)),
        required=True,
        validate=[validate.Length(1, 30), _distinct],
    )
    suspected_exploitation = fields.List(
        fields.String(validate=validate.OneOf(EXPLOITATION_CODES)),
        required=True,
        validate=[validate.Length(1, 7), _distinct],
    )
    persons = fields.Nested(PersonsSchema, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    reporter = fields.Nested(ReporterSchema, required=True)
    language = fields.String(
        load_default="fr",
        validate=validate.Regexp(BCP47, error="Not a BCP 47 language tag."),
    )

    @validates("observed_at")
    def _observed_at(self, value: datetime, **_: Any) -> None:
        if value > clock.now() + FUTURE_TOLERANCE:
            raise ValidationError("Must not be in the future.")
        if value < EARLIEST:
            raise ValidationError("Must not be before 2000.")

    @validates_schema(skip_on_field_errors=False)
    def _context_blocks(self, data: dict[str, Any], **_: Any) -> None:
        context = data.get("context")
        if context is None:
            return
        errors: dict[str, Any] = dict(_block_errors(context, data))
        indicators = _misplaced_indicators(context, data.get("indicators") or [])
        if indicators:
            errors["indicators"] = indicators
        if errors:
            raise ValidationError(errors)


def _block_errors(context: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """The context blocks (location, stay, flight) missing for `context`, or not allowed with it."""
    errors: dict[str, list[str]] = {}
    if context in ("stay", "other") and "location" not in data:
        errors["location"] = [f"Required when context is {context}."]
    for block in ("stay", "flight"):
        if context == block and block not in data:
            errors[block] = [f"Required when context is {block}."]
    for block in ("stay", "flight"):
        if context != block and block in data:
            errors[block] = [f"Only allowed when context is {block}."]
    return errors


def _misplaced_indicators(context: str, codes: list[str]) -> dict[int, list[str]]:
    """Indicators that apply to another context than this stay or flight report, by position:
    named `indicators[i]` like every other error about one item of the list."""
    if context not in ("stay", "flight"):
        return {}
    misplaced = {}
    for position, code in enumerate(codes):
        indicator = INDICATOR_BY_CODE.get(code)
        if indicator and indicator.context not in ("any", context):
            misplaced[position] = [f"{code} applies to {indicator.context} reports, not {context}."]
    return misplaced


class GuidanceNumberSchema(Schema):
    number = fields.String(metadata={"example": "17"})
    label = fields.String(metadata={"example": "Police et gendarmerie"})


class GuidanceSchema(Schema):
    language = fields.String(metadata={"example": "fr"})
    message = fields.String()
    numbers = fields.List(fields.Nested(GuidanceNumberSchema))


class ReportLinksSchema(Schema):
    self = fields.String(metadata={"example": "/v1/reports/rep_mfrggzdfmztwq2lk"})


class ReportReceiptSchema(Schema):
    """What a partner gets back when a report is accepted (dumped from the Report)."""

    id = fields.String(attribute="public_id", metadata={"example": "rep_mfrggzdfmztwq2lk"})
    partner_reference = fields.String()
    status = fields.String(attribute="coarse_status", metadata={"example": "received"})
    priority = fields.String(metadata={"example": "P2", "enum": ["P1", "P2", "P3", "P4"]})
    received_at = fields.AwareDateTime(format="iso")
    links = fields.Nested(ReportLinksSchema)
    guidance = fields.Nested(GuidanceSchema, allow_none=True)


class PartnerReportSchema(Schema):
    """A Report as its partner may see it: coarse status, no operator data."""

    id = fields.String(attribute="public_id")
    partner_reference = fields.String()
    context = fields.String()
    status = fields.String(attribute="coarse_status", metadata={"enum": list(COARSE_STATUSES)})
    priority = fields.String()
    observed_at = fields.AwareDateTime(format="iso")
    received_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")
    links = fields.Nested(ReportLinksSchema)


class ReportListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(COARSE_STATUSES))
    updated_since = instant(validate=in_range)


# -- batches ------------------------------------------------------------------


class BatchSchema(Schema):
    """1 to 100 reports, each checked like a single report."""

    reports = fields.List(
        fields.Raw(metadata={"allOf": [{"$ref": "#/components/schemas/Report"}]}),
        required=True,
        validate=validate.Length(1, MAX_BATCH),
    )


class BatchItemResultSchema(Schema):
    index = fields.Integer(metadata={"example": 0})
    status = fields.Integer(metadata={"enum": [201, 409, 422]})
    id = fields.String(metadata={"description": "When status is 201"})
    priority = fields.String(metadata={"description": "When status is 201"})
    problem = fields.Dict(
        metadata={
            "description": "When status is 409 or 422: the problem document of this report",
            "allOf": [{"$ref": "#/components/schemas/Problem"}],
        }
    )


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(BatchItemResultSchema))


# -- vocabulary for partners' forms -------------------------------------------


class LabelSchema(Schema):
    code = fields.String()
    fr = fields.String()
    en = fields.String()


class IndicatorSchema(LabelSchema):
    context = fields.String(metadata={"enum": ["stay", "flight", "any"]})
    strong = fields.Boolean()


class VocabularySchema(Schema):
    indicators = fields.List(fields.Nested(IndicatorSchema))
    suspected_exploitation = fields.List(fields.Nested(LabelSchema))
    reporter_roles = fields.List(fields.Nested(LabelSchema))


# -- webhook events: the `data` partners receive (OpenAPI `webhooks`, see vigie.openapi) --


class ReportReceivedDataSchema(Schema):
    """`data` of `report.received`, written by `service.create`."""

    report_id = fields.String(required=True, metadata={"example": "rep_mfrggzdfmztwq2lk"})
    partner_reference = fields.String(required=True, metadata={"example": "GDF-2026-0042"})
    status = fields.String(required=True, metadata={"enum": list(COARSE_STATUSES)})
    priority = fields.String(required=True, metadata={"enum": ["P1", "P2", "P3", "P4"]})


class ReportStatusChangedDataSchema(Schema):
    """`data` of `report.status_changed`, written by `vigie.triage.service` when the coarse
    status a partner sees changes."""

    report_id = fields.String(required=True, metadata={"example": "rep_mfrggzdfmztwq2lk"})
    partner_reference = fields.String(required=True, metadata={"example": "GDF-2026-0042"})
    status = fields.String(required=True, metadata={"enum": list(COARSE_STATUSES)})
    previous_status = fields.String(required=True, metadata={"enum": list(COARSE_STATUSES)})

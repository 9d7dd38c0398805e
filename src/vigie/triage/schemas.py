from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from vigie.pagination import PageArgsSchema
from vigie.reports.models import INTERNAL_STATUSES
from vigie.reports.priority import PRIORITIES
from vigie.reports.vocabulary import DEPARTMENTS, EXPLOITATION_CODES
from vigie.shelters.models import SHELTER_TYPES
from vigie.shelters.schemas import LANGUAGE
from vigie.triage.models import (
    CLOSURE_REASONS,
    NETWORK_OUTCOMES,
    NETWORK_TERMS,
    OPEN_STATUSES,
    OUTCOMES,
    REFERRAL_STATUSES,
    REFUSAL_REASONS,
    TARGET_TYPES,
)
from vigie.validators import no_nul

REASON_DESCRIPTION = (
    "Why the referral was refused: " + ", ".join(REFUSAL_REASONS) + " (no_capacity is the "
    "outcome no_capacity itself)"
)


class QueueArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(OPEN_STATUSES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    department = fields.String(validate=validate.OneOf(sorted(DEPARTMENTS)))
    partner = fields.String(
        validate=[validate.Length(1, 32), no_nul],
        metadata={"description": "Partner id (prt_...)"},
    )
    exploitation = fields.String(validate=validate.OneOf(EXPLOITATION_CODES))
    overdue = fields.Boolean(
        metadata={"description": "true: unreviewed past the response time; false: the others"}
    )


class PersonRefSchema(Schema):
    """An operator, partner or shelter named in a response: its public id and its name."""

    id = fields.String(attribute="public_id")
    name = fields.String()


class ClaimRefSchema(Schema):
    holder = fields.Nested(PersonRefSchema)
    expires_at = fields.DateTime()


class QueueItemSchema(Schema):
    id = fields.String()
    priority = fields.String()
    due_at = fields.DateTime(metadata={"description": "When the first review is due"})
    overdue = fields.Boolean()
    escalated = fields.Boolean(metadata={"description": "Supervisors were told it is overdue"})
    status = fields.String()
    context = fields.String()
    department = fields.String(allow_none=True)
    indicator_count = fields.Integer()
    minors_involved = fields.Boolean()
    in_immediate_danger = fields.Boolean()
    partner = fields.Nested(PersonRefSchema)
    claim = fields.Nested(ClaimRefSchema, allow_none=True)
    related_count = fields.Integer(metadata={"description": "Reports on the same listing/flight"})
    received_at = fields.DateTime()


class QueueCountsSchema(Schema):
    open = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_priority = fields.Dict(keys=fields.String(), values=fields.Integer())
    overdue_by_priority = fields.Dict(keys=fields.String(), values=fields.Integer())


class QueueSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema))
    counts = fields.Nested(QueueCountsSchema)


class ClaimArgsSchema(Schema):
    takeover = fields.Boolean(
        load_default=False,
        metadata={"description": "Supervisors: take over another operator's live claim"},
    )


class ClaimSchema(Schema):
    report_id = fields.String()
    holder = fields.Nested(PersonRefSchema, allow_none=True)
    expires_at = fields.DateTime(allow_none=True)


class TransitionArgsSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(INTERNAL_STATUSES))
    comment = fields.String(load_default=None, validate=validate.Length(0, 5000))
    closure_reason = fields.String(load_default=None, validate=validate.OneOf(CLOSURE_REASONS))
    duplicate_of = fields.String(load_default=None, validate=validate.Length(1, 32))


class NoteArgsSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(1, 10000))


class NoteSchema(Schema):
    id = fields.String(attribute="public_id")
    author = fields.Nested(PersonRefSchema, allow_none=True)
    body = fields.String(allow_none=True, metadata={"description": "null once erased"})
    created_at = fields.DateTime()


class RelatedSchema(Schema):
    id = fields.String()
    priority = fields.String()
    status = fields.String()
    received_at = fields.DateTime()
    partner_id = fields.String()
    reasons = fields.List(
        fields.String(),
        metadata={
            "description": "same_listing, same_flight, duplicate_of_this, this_is_duplicate_of"
        },
    )


class HistorySchema(Schema):
    """One `Transition`: from which status to which, by whom, when."""

    from_ = fields.String(data_key="from", attribute="from_status")
    to = fields.String(attribute="to_status")
    closure_reason = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    by = fields.Nested(PersonRefSchema, allow_none=True, attribute="operator")
    at = fields.DateTime(attribute="created_at")

    class Meta:
        ordered = True


class ContactSchema(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ReferralRefSchema(Schema):
    """A `Referral` (its `note` decrypted by the service that loaded it)."""

    id = fields.String(attribute="public_id")
    report_id = fields.String(attribute="report.public_id")
    target_type = fields.String()
    shelter = fields.Nested(PersonRefSchema, allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    languages = fields.List(fields.String(), metadata={"description": "Spoken by the people"})
    forwarded_to = fields.Nested(
        PersonRefSchema,
        attribute="shelter_network",
        allow_none=True,
        metadata={"description": "The shelter network it was forwarded to"},
    )
    created_by = fields.Nested(PersonRefSchema, allow_none=True)
    created_at = fields.DateTime()
    outcome_at = fields.DateTime(allow_none=True)
    outcome_reason = fields.String(
        allow_none=True,
        metadata={"description": REASON_DESCRIPTION, "enum": [*REFUSAL_REASONS, None]},
    )


class ReferralSchema(ReferralRefSchema):
    status = fields.String(metadata={"enum": list(REFERRAL_STATUSES)})


class ReferralArgsSchema(Schema):
    target_type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    shelter_id = fields.String(load_default=None, validate=validate.Length(1, 32))
    note = fields.String(load_default=None, validate=validate.Length(0, 5000))
    languages = fields.List(
        fields.String(validate=LANGUAGE),
        load_default=list,
        validate=validate.Length(0, 10),
        metadata={
            "description": "BCP 47 tags of the languages the people speak; sent to a shelter "
            "network with the referral"
        },
    )


class ReferralOutcomeArgsSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(
        load_default=None,
        validate=validate.OneOf(REFUSAL_REASONS),
        metadata={"description": REASON_DESCRIPTION + "; only with declined or no_capacity"},
    )


class NetworkOutcomeArgsSchema(Schema):
    """What a shelter network sends about a referral forwarded to it."""

    referral_id = fields.String(
        required=True,
        validate=[validate.Length(1, 32), no_nul],
        metadata={"description": "The referral_id of the forwarded referral (ref_...)"},
    )
    outcome = fields.String(required=True, validate=validate.OneOf(NETWORK_OUTCOMES))
    reason = fields.String(
        load_default=None,
        validate=validate.OneOf(REFUSAL_REASONS),
        metadata={"description": "Required with refused, and only with it"},
    )

    @validates_schema(skip_on_field_errors=True)
    def _reason(self, data: dict[str, Any], **_: Any) -> None:
        if data["outcome"] == "refused" and data["reason"] is None:
            raise ValidationError("Say why the referral is refused.", "reason")
        if data["outcome"] != "refused" and data["reason"] is not None:
            raise ValidationError("A reason is only given with refused.", "reason")


class NetworkOutcomeSchema(Schema):
    """A forwarded referral's outcome as its network sees it (a `Referral`)."""

    referral_id = fields.String(attribute="public_id")
    outcome = fields.Function(
        lambda referral: NETWORK_TERMS.get(referral.status),
        metadata={"type": "string", "enum": list(NETWORK_OUTCOMES)},
    )
    reason = fields.String(attribute="outcome_reason", allow_none=True)
    outcome_at = fields.DateTime(allow_none=True)


class SuggestionArgsSchema(Schema):
    type = fields.String(validate=validate.OneOf(SHELTER_TYPES))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class ReportDetailSchema(Schema):
    id = fields.String()
    partner = fields.Nested(PersonRefSchema)
    partner_reference = fields.String()
    context = fields.String()
    status = fields.String()
    partner_status = fields.String(metadata={"description": "The coarse status the partner sees"})
    priority = fields.String()
    observed_at = fields.DateTime()
    received_at = fields.DateTime()
    updated_at = fields.DateTime()
    due_at = fields.DateTime()
    overdue = fields.Boolean()
    escalated_at = fields.DateTime(allow_none=True)
    first_reviewed_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    closure_reason = fields.String(allow_none=True)
    duplicate_of = fields.String(allow_none=True)
    purged_at = fields.DateTime(
        allow_none=True, metadata={"description": "When retention erased the personal fields"}
    )
    location = fields.Dict()
    stay = fields.Dict(allow_none=True)
    flight = fields.Dict(allow_none=True)
    indicators = fields.List(fields.String())
    suspected_exploitation = fields.List(fields.String())
    persons = fields.Dict()
    description = fields.String(allow_none=True)
    reporter = fields.Dict()
    language = fields.String()
    channel = fields.String(
        metadata={"description": "How it came: api, batch, adapter:<name> or form"}
    )
    claim = fields.Nested(ClaimSchema)
    related = fields.List(fields.Nested(RelatedSchema))
    notes = fields.List(fields.Nested(NoteSchema))
    referrals = fields.List(fields.Nested(ReferralRefSchema))
    history = fields.List(fields.Nested(HistorySchema))


class ReportStateSchema(Schema):
    """A `service.ReportState`: the report's row, what it duplicates and its claim."""

    id = fields.String(attribute="report.public_id")
    status = fields.String(attribute="report.status")
    partner_status = fields.String(attribute="report.coarse_status")
    priority = fields.String(attribute="report.priority")
    first_reviewed_at = fields.DateTime(allow_none=True, attribute="report.first_reviewed_at")
    closed_at = fields.DateTime(allow_none=True, attribute="report.closed_at")
    closure_reason = fields.String(allow_none=True, attribute="report.closure_reason")
    duplicate_of = fields.String(allow_none=True)
    updated_at = fields.DateTime(attribute="report.updated_at")
    claim = fields.Nested(ClaimSchema)

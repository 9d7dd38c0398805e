from __future__ import annotations

from marshmallow import Schema, fields, validate

from vigie.reports.vocabulary import DEPARTMENTS
from vigie.shelters.models import ACCEPTS, NETWORK_FORWARDER, SHELTER_TYPES
from vigie.validators import no_nul

DEPARTMENT = validate.OneOf(sorted(DEPARTMENTS), error="Not a département code.")
LANGUAGE = validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", error="Not a BCP 47 tag.")
NETWORK_DESCRIPTION = (
    "The shelter network it belongs to (snt_...; `vigie shelter-network create`): referrals "
    f"to it are forwarded to the network's intake, and its integration is {NETWORK_FORWARDER}. "
    "null: none"
)
NETWORK_ID = validate.And(validate.Length(1, 32), no_nul)


class ShelterContactSchema(Schema):
    """An organisation's contact, never a person's private details nor a protected address."""

    name = fields.String(validate=validate.Length(1, 200))
    phone = fields.String(validate=validate.Length(1, 40))
    email = fields.Email()
    notes = fields.String(validate=validate.Length(0, 1000))


class ShelterWriteSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, validate=validate.OneOf(SHELTER_TYPES))
    departments = fields.List(
        fields.String(validate=DEPARTMENT), required=True, validate=validate.Length(1, 110)
    )
    accepts = fields.List(fields.String(validate=validate.OneOf(ACCEPTS)), load_default=list)
    languages = fields.List(fields.String(validate=LANGUAGE), load_default=list)
    capacity_total = fields.Integer(required=True, validate=validate.Range(0, 100000))
    capacity_available = fields.Integer(required=True, validate=validate.Range(0, 100000))
    contact = fields.Nested(ShelterContactSchema, load_default=dict)
    integration = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[a-z0-9_.-]{1,64}$"),
        metadata={"description": "Name of the forwarder used for referrals"},
    )
    network = fields.String(
        load_default=None,
        allow_none=True,
        validate=NETWORK_ID,
        metadata={"description": NETWORK_DESCRIPTION},
    )


class ShelterPatchSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    type = fields.String(validate=validate.OneOf(SHELTER_TYPES))
    departments = fields.List(fields.String(validate=DEPARTMENT), validate=validate.Length(1, 110))
    accepts = fields.List(fields.String(validate=validate.OneOf(ACCEPTS)))
    languages = fields.List(fields.String(validate=LANGUAGE))
    capacity_total = fields.Integer(validate=validate.Range(0, 100000))
    capacity_available = fields.Integer(validate=validate.Range(0, 100000))
    contact = fields.Nested(ShelterContactSchema)
    integration = fields.String(allow_none=True, validate=validate.Regexp(r"^[a-z0-9_.-]{1,64}$"))
    network = fields.String(
        allow_none=True, validate=NETWORK_ID, metadata={"description": NETWORK_DESCRIPTION}
    )
    archived = fields.Boolean(metadata={"description": "Archived shelters are not suggested"})


class ShelterSchema(Schema):
    id = fields.String(attribute="public_id")
    name = fields.String()
    type = fields.String()
    departments = fields.List(fields.String())
    accepts = fields.List(fields.String())
    languages = fields.List(fields.String())
    capacity_total = fields.Integer()
    capacity_available = fields.Integer()
    capacity_updated_at = fields.DateTime(
        metadata={"description": "When availability was last declared: shows staleness"}
    )
    contact = fields.Nested(ShelterContactSchema)
    integration = fields.String(allow_none=True)
    network = fields.String(
        attribute="network_public_id",
        allow_none=True,
        metadata={"description": NETWORK_DESCRIPTION},
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    archived = fields.Boolean()


class ShelterListArgsSchema(Schema):
    department = fields.String(validate=DEPARTMENT)
    type = fields.String(validate=validate.OneOf(SHELTER_TYPES))
    include_archived = fields.Boolean(load_default=False)


class SuggestionSchema(Schema):
    """A shelter ranked for a need (`service.Suggestion`)."""

    score = fields.Integer()
    reasons = fields.List(fields.String())
    shelter = fields.Nested(ShelterSchema)

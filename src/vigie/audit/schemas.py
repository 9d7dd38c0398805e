from __future__ import annotations

from marshmallow import Schema, fields, validate

from vigie.pagination import PageArgsSchema
from vigie.validators import no_nul


class AuditArgsSchema(PageArgsSchema):
    report_id = fields.String(validate=[validate.Length(1, 32), no_nul])
    actor = fields.String(
        validate=[validate.Length(1, 64), no_nul],
        metadata={"description": "A staff id (opr_...) or system:<job>"},
    )
    action = fields.String(
        validate=[validate.Length(1, 64), no_nul], metadata={"example": "report.transition"}
    )


class AuditEntrySchema(Schema):
    seq = fields.Integer(metadata={"description": "Position in the chain, from 1, no gaps"})
    at = fields.DateTime()
    actor = fields.String(metadata={"example": "opr_ab12cd34ef56gh78"})
    actor_role = fields.String(allow_none=True)
    action = fields.String(metadata={"example": "report.read"})
    report_id = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    details = fields.Dict()
    hash = fields.String(metadata={"description": "SHA-256 over the previous hash and this entry"})

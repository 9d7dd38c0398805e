"""Webhook endpoint and delivery bodies."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from vigie.pagination import PageArgsSchema
from vigie.webhooks.models import DELIVERY_STATUSES, PARTNER_EVENT_TYPES

EVENTS_METADATA: dict[str, Any] = {
    "description": "Event types to receive",
    "example": ["report.received", "report.status_changed"],
    "items": {"type": "string", "enum": list(PARTNER_EVENT_TYPES)},
}


class EndpointCreateSchema(Schema):
    url = fields.String(
        required=True,
        validate=validate.Length(1, 2048),
        metadata={"description": "https URL (public address, port 443 or 8443)"},
    )
    events = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        required=True,
        validate=validate.Length(1, 20),
        metadata=EVENTS_METADATA,
    )
    description = fields.String(load_default="", validate=validate.Length(0, 500))


class EndpointUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(1, 2048))
    events = fields.List(
        fields.String(validate=validate.Length(1, 64)), validate=validate.Length(1, 20)
    )
    description = fields.String(validate=validate.Length(0, 500))
    enabled = fields.Boolean()


class EndpointLinksSchema(Schema):
    self = fields.String()
    deliveries = fields.String()


class EndpointSchema(Schema):
    """Dumps a WebhookEndpoint."""

    id = fields.String(attribute="public_id", metadata={"example": "whe_m3k2bq7xv4ad5ck2p7xa"})
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String())
    enabled = fields.Boolean()
    disabled_reason = fields.String(
        allow_none=True,
        metadata={"enum": ["by_owner", "gone", "failing", None]},
    )
    disabled_at = fields.DateTime(allow_none=True)
    secret_rotation_ends_at = fields.DateTime(
        allow_none=True,
        metadata={"description": "Until then deliveries carry a signature with each secret"},
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    links = fields.Nested(EndpointLinksSchema)


class EndpointWithSecretSchema(EndpointSchema):
    """Dumps an `(endpoint, secret)` pair: the secret is stored encrypted, shown once."""

    secret = fields.String(
        metadata={
            "description": "Signing secret, shown only in this response",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
    )

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        endpoint, secret = obj
        return secret if attr == "secret" else super().get_attribute(endpoint, attr, default)


class AttemptSchema(Schema):
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer()
    error = fields.String(
        allow_none=True,
        metadata={"description": "http_<status>, timeout, connect_timeout, connection_error, ..."},
    )
    response_body = fields.String(
        allow_none=True, metadata={"description": "At most the first 1 KiB of your answer"}
    )


class DeliverySchema(Schema):
    """Dumps a WebhookDelivery with its event and, when loaded, its attempts."""

    id = fields.String(attribute="public_id", metadata={"example": "whd_pq2m7rk3x5bn4ad7cm2q"})
    event_id = fields.String(
        attribute="event.public_id", metadata={"description": "The webhook-id header"}
    )
    event_type = fields.String(attribute="event.type")
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempt_count = fields.Integer(attribute="attempts")
    next_attempt_at = fields.DateTime(attribute="upcoming_attempt_at", allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    attempts = fields.List(fields.Nested(AttemptSchema), attribute="attempt_log")


class DeliveryListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


class TestEventSchema(Schema):
    """Dumps the queued OutboxEvent."""

    event_id = fields.String(
        attribute="public_id", metadata={"description": "The webhook-id the test will carry"}
    )
    type = fields.String(metadata={"example": "webhook.test"})


# -- webhook events: the `data` partners receive (OpenAPI `webhooks`, see vigie.openapi) --


class WebhookTestDataSchema(Schema):
    """`data` of `webhook.test`, written by `service.send_test`."""

    endpoint_id = fields.String(required=True, metadata={"example": "whe_m3k2bq7xv4ad5ck2p7xa"})
    message = fields.String(required=True, metadata={"example": "Test event from Vigie."})


class EndpointDisabledDataSchema(Schema):
    """`data` of `webhook.endpoint_disabled`, written by `dispatch.disable`."""

    endpoint_id = fields.String(required=True, metadata={"example": "whe_m3k2bq7xv4ad5ck2p7xa"})
    reason = fields.String(
        required=True,
        metadata={
            "enum": ["gone", "failing"],
            "description": "`gone`: it answered 410; `failing`: no success for too long",
        },
    )

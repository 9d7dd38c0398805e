"""The OpenAPI document: what flask-smorest builds from the views, completed in one place.

The views document what is particular to them (schemas, examples, their own 404 or 409).
`Contract`, an apispec plugin, adds what follows from an operation's shape, so that no view
can forget it:

- the 4xx every operation can answer, from its method, security, parameters and body
  (`RULES`): 414 and 431 on all, 413, 415 and 422 on write methods, 429 with a partner key...
- the `X-Request-Id` header, which the app reads on every request;
- the OpenAPI 3.1 `webhooks` section: each event partners and shelter networks receive,
  its payload as a schema and the Standard Webhooks headers that sign it.

`export(app)` writes the committed openapi/openapi.json (`vigie openapi`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask
from marshmallow import Schema

from vigie import integrations
from vigie.content.schemas import ContentPublishedDataSchema, ContentRetiredDataSchema
from vigie.errors import PROBLEM_JSON
from vigie.reports.schemas import ReportReceivedDataSchema, ReportStatusChangedDataSchema
from vigie.webhooks.models import PARTNER_EVENT_TYPES
from vigie.webhooks.schemas import EndpointDisabledDataSchema, WebhookTestDataSchema

REQUEST_ID = {
    "description": "Your id for this request (1 to 64 of A-Z a-z 0-9 . _ -), echoed in the "
    "`X-Request-Id` answer header and in problem documents; otherwise Vigie makes one. "
    "Quote it when you ask MIPROF about a request.",
    "required": False,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
}
RATE_LIMITED = {
    "description": "Too Many Requests: this API key sent more than its limit allows; retry "
    "after `Retry-After` seconds.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    "content": {PROBLEM_JSON: {"schema": "Problem"}},
}
PARTNER_SCHEME = "partnerKey"
WRITE_METHODS = ("post", "put", "patch")


# What an operation's shape implies it can answer, whatever its view says.
RULES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("any", (414, 431)),  # a URL or headers too long, refused by the server before the app
    ("write method", (413, 415, 422)),  # any body sent is checked: size, type, NUL characters
    ("JSON body", (400,)),  # not JSON
    ("query parameters", (422,)),
    ("cursor", (400,)),  # not one of ours
    ("Idempotency-Key", (400, 409)),  # malformed; the same key still being processed
    ("path parameter", (404,)),
    ("credential", (401, 403)),
    ("partner key", (429,)),  # rate limits apply to every partner operation
)


def _facts(path: str, method: str, operation: Mapping[str, Any]) -> set[str]:
    names = {(p.get("in"), p.get("name")) for p in operation.get("parameters", ()) if "in" in p}
    schemes = {name for requirement in operation.get("security", ()) for name in requirement}
    facts = {
        "any": True,
        "write method": method in WRITE_METHODS,
        "JSON body": "requestBody" in operation,
        "query parameters": any(location == "query" for location, _ in names),
        "cursor": ("query", "cursor") in names,
        "Idempotency-Key": ("header", "Idempotency-Key") in names,
        "path parameter": "{" in path,
        "credential": bool(schemes),
        "partner key": PARTNER_SCHEME in schemes,
    }
    return {fact for fact, holds in facts.items() if holds}


def answers(path: str, method: str, operation: Mapping[str, Any]) -> dict[str, str]:
    """The 4xx `operation` can answer (see RULES), each with its component response.

    `path` is the OpenAPI path (`/v1/reports/{report_id}`), `method` in lower case."""
    facts = _facts(path, method, operation)
    statuses = {status for fact, implied in RULES if fact in facts for status in implied}
    return {
        str(status): "RATE_LIMITED" if status == 429 else HTTPStatus(status).name
        for status in sorted(statuses)
    }


class Contract(BasePlugin):
    """Completes every operation (see the module's docstring) as flask-smorest registers it."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        spec.components.parameter("RequestId", "header", {"name": "X-Request-Id", **REQUEST_ID})
        spec.components.response("RATE_LIMITED", RATE_LIMITED, lazy=True)
        _document_webhooks(spec)

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for status, component in answers(path or "", method, operation).items():
                if status not in documented:
                    responses[status] = component
            operation.setdefault("parameters", []).append("RequestId")


# -- webhooks ---------------------------------------------------------------------

PARTNER_EVENTS: dict[str, tuple[type[Schema], str]] = {
    "report.received": (ReportReceivedDataSchema, "One of your reports was stored."),
    "report.status_changed": (
        ReportStatusChangedDataSchema,
        "The coarse status of one of your reports changed.",
    ),
    "content.published": (
        ContentPublishedDataSchema,
        "Awareness content was published or changed: fetch `links.self`.",
    ),
    "content.retired": (ContentRetiredDataSchema, "Awareness content was retired: drop it."),
    "webhook.test": (WebhookTestDataSchema, "The test you asked for (`testWebhookEndpoint`)."),
    "webhook.endpoint_disabled": (
        EndpointDisabledDataSchema,
        "Vigie disabled one of your endpoints; re-enable it with `updateWebhookEndpoint`.",
    ),
}
SIGNATURE_HEADERS = {
    "WebhookId": (
        "webhook-id",
        "The event's id (`evt_…`), the same on every retry: deduplicate on it.",
        {"type": "string", "example": "evt_3u2kq7r4xmb5na2c6p7q"},
    ),
    "WebhookTimestamp": (
        "webhook-timestamp",
        "Unix seconds of this attempt; refuse one more than five minutes from your clock.",
        {"type": "string", "pattern": "^[0-9]+$", "example": "1795712400"},
    ),
    "WebhookSignature": (
        "webhook-signature",
        "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, with the endpoint's `whsec_` secret; "
        "during a secret rotation two signatures separated by a space.",
        {"type": "string", "example": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
    ),
}
WEBHOOK_RESPONSES = {
    "2XX": {"description": "Received: any 2xx acknowledges the delivery."},
    "410": {"description": "Gone: Vigie disables the endpoint at once and sends no more."},
    "default": {
        "description": "Anything else, or no answer in time, is retried on the schedule "
        "with the same `webhook-id`."
    },
}


def _camel(*words: str) -> str:
    parts = [p for word in words for p in re.split(r"[^A-Za-z0-9]+", word) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _event(spec: APISpec, event_type: str, data: str, description: str) -> dict[str, Any]:
    """The envelope component of `event_type` (its `data`: component `data`); a path item."""
    name = _camel(data.removesuffix("Data"), "Event")
    spec.components.schema(
        name,
        component={
            "type": "object",
            "description": description,
            "required": ["type", "timestamp", "data"],
            "properties": {
                "type": {"type": "string", "enum": [event_type]},
                "timestamp": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the event happened (UTC); events are not ordered.",
                },
                "data": _ref("schemas", data),
            },
        },
    )
    return {
        "post": {
            "operationId": name[:1].lower() + name[1:],
            "summary": f"{event_type}: {description}",
            "description": "Sent signed (Standard Webhooks) to the endpoints subscribed to "
            f"`{event_type}`; verify the signature on the raw body before trusting it.",
            "tags": ["webhooks"],
            "parameters": [_ref("parameters", header) for header in SIGNATURE_HEADERS],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("schemas", name)}},
            },
            "responses": WEBHOOK_RESPONSES,
        }
    }


def _forwarders() -> Iterable[integrations.Forwarder]:
    for name in integrations.available(integrations.Forwarder):
        yield integrations.load(name, integrations.Forwarder)


def _document_webhooks(spec: APISpec) -> None:
    for component, (header, description, header_schema) in SIGNATURE_HEADERS.items():
        parameter = {"name": header, "required": True, "description": description}
        spec.components.parameter(component, "header", {**parameter, "schema": header_schema})
    webhooks: dict[str, Any] = {}
    for event_type in PARTNER_EVENT_TYPES:
        data_schema, description = PARTNER_EVENTS[event_type]
        data = data_schema.__name__.removesuffix("Schema")
        spec.components.schema(data, schema=data_schema)
        webhooks[event_type] = _event(spec, event_type, data, description)
    for forwarder in _forwarders():
        forwarded = forwarder.data_schema()
        if forwarded is not None:
            data = _camel(forwarder.name, "ReferralCreatedData")
            spec.components.schema(data, component=forwarded)
            key = f"referral.created ({forwarder.name} intake)"
            about = f"A referral forwarded to your intake (forwarder `{forwarder.name}`)."
            webhooks[key] = _event(spec, "referral.created", data, about)
    spec.options["webhooks"] = webhooks


def export(app: Flask) -> str:
    spec = app.extensions["vigie.api"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

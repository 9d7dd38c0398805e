"""Partners manage their own webhook endpoints (scope webhooks:manage)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from vigie import auth, web
from vigie.errors import documented_problem
from vigie.pagination import PageArgsSchema, next_link
from vigie.reports.examples import problem_example
from vigie.web import Blueprint
from vigie.webhooks import service
from vigie.webhooks.schemas import (
    DeliveryListArgsSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    EndpointWithSecretSchema,
    TestEventSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/webhooks",
    description="Signed webhooks (Standard Webhooks) sent to your endpoints",
)
SCOPE = "webhooks:manage"
TOO_MANY_ENDPOINTS = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "A partner may register at most 10 webhook endpoints; delete one before "
    "registering another (one endpoint may subscribe to several event types).",
    "limit": 10,
}
URL_ALREADY_REGISTERED = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "Your endpoint whe_3u2kq7r4xmb5na2c6p7q already has this URL; subscribe it to "
    "more event types (PATCH its events) rather than registering the URL again.",
    "existing_endpoint_id": "whe_3u2kq7r4xmb5na2c6p7q",
}
ENDPOINT_EXAMPLE = {
    "url": "https://hooks.example.com/vigie",
    "events": ["report.received", "report.status_changed"],
    "description": "Production receiver",
}
TEST_NOT_SUBSCRIBED = problem_example(
    409,
    "conflict",
    "Conflict",
    "This endpoint does not subscribe to webhook.test, so a test event would never be "
    "delivered to it. Subscribe it first: PATCH /v1/webhooks/endpoints/whe_3u2kq7r4xmb5na2c6p7q "
    'with {"events": ["report.received", "webhook.test"]}.',
    instance="/v1/webhooks/endpoints/whe_3u2kq7r4xmb5na2c6p7q/test",
)


def _settings() -> service.Settings:
    return service.Settings.from_config(web.runtime().config)


def _partner_id() -> int:
    return auth.current_partner().id


@blp.route("/endpoints")
class Endpoints(MethodView):
    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="createWebhookEndpoint")
    @blp.arguments(EndpointCreateSchema, example=ENDPOINT_EXAMPLE)
    @blp.response(201, EndpointWithSecretSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @documented_problem(
        blp,
        409,
        too_many_endpoints=TOO_MANY_ENDPOINTS,
        url_already_registered=URL_ALREADY_REGISTERED,
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Register an endpoint

        The URL must be https and resolve only to public addresses. The response carries
        the signing secret (`whsec_…`); it is shown only this once. A partner keeps at most
        10 endpoints, one per URL (409 otherwise; one endpoint may subscribe to several event
        types).
        """
        session = web.session()
        endpoint, secret = service.create_endpoint(
            session=session,
            crypto=web.runtime().crypto,
            settings=_settings(),
            partner_id=_partner_id(),
            **data,
        )
        session.commit()
        headers = {"Location": f"/v1/webhooks/endpoints/{endpoint.public_id}"}
        return (endpoint, secret), 201, headers

    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="listWebhookEndpoints")
    @blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, EndpointSchema(many=True))
    @blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """List your endpoints

        Follow the `Link: rel="next"` header.
        """
        page = service.list_endpoints(
            session=web.session(),
            partner_id=_partner_id(),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page.items, 200, next_link(page.next_cursor)


@blp.route("/endpoints/<string:endpoint_id>")
class EndpointItem(MethodView):
    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="getWebhookEndpoint")
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, endpoint_id: str) -> Any:
        """Read one of your endpoints (never its secret)"""
        return service.get_endpoint(
            session=web.session(), partner_id=_partner_id(), endpoint_id=endpoint_id
        )

    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="updateWebhookEndpoint")
    @blp.arguments(EndpointUpdateSchema, example={"enabled": True})
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @documented_problem(blp, 409, url_already_registered=URL_ALREADY_REGISTERED)
    def patch(self, data: dict[str, Any], endpoint_id: str) -> Any:
        """Change an endpoint's url, events, description or enabled

        Re-enabling a disabled endpoint resumes its pending deliveries. A URL another of your
        endpoints has is 409.
        """
        session = web.session()
        endpoint = service.update_endpoint(
            session=session,
            settings=_settings(),
            partner_id=_partner_id(),
            endpoint_id=endpoint_id,
            changes=data,
        )
        session.commit()
        return endpoint

    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="deleteWebhookEndpoint")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, endpoint_id: str) -> Any:
        """Delete an endpoint

        Nothing more is sent to it, including deliveries still pending.
        """
        session = web.session()
        service.delete_endpoint(session=session, partner_id=_partner_id(), endpoint_id=endpoint_id)
        session.commit()
        return "", 204


@blp.route("/endpoints/<string:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="rotateWebhookSecret")
    @blp.response(200, EndpointWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id: str) -> Any:
        """Rotate the signing secret

        The new secret is shown only in this response. Until `secret_rotation_ends_at`
        (24 hours by default) deliveries carry one signature per secret, so you can
        deploy the new secret without missing an event.
        """
        session = web.session()
        endpoint, secret = service.rotate_secret(
            session=session,
            crypto=web.runtime().crypto,
            settings=_settings(),
            partner_id=_partner_id(),
            endpoint_id=endpoint_id,
        )
        session.commit()
        return (endpoint, secret), 200


@blp.route("/endpoints/<string:endpoint_id>/test")
class TestEvent(MethodView):
    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="testWebhookEndpoint")
    @blp.response(202, TestEventSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @documented_problem(blp, 409, not_subscribed=TEST_NOT_SUBSCRIBED)
    def post(self, endpoint_id: str) -> Any:
        """Send a webhook.test event to this endpoint

        The event is queued; watch its delivery in the endpoint's deliveries. The endpoint
        must subscribe to `webhook.test` and be enabled, else nothing could be delivered:
        409, saying how to fix it.
        """
        session = web.session()
        event = service.send_test(
            session=session, partner_id=_partner_id(), endpoint_id=endpoint_id
        )
        session.commit()
        return event, 202


@blp.route("/endpoints/<string:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="listWebhookDeliveries")
    @blp.arguments(DeliveryListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, DeliverySchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(400, response="BAD_REQUEST")
    def get(self, endpoint_id: str, **args: Any) -> Any:
        """List an endpoint's deliveries with their attempts

        Newest first. Follow the `Link: rel="next"` header.
        """
        page = service.list_deliveries(
            session=web.session(),
            partner_id=_partner_id(),
            endpoint_id=endpoint_id,
            status=args.get("status"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page.items, 200, next_link(page.next_cursor)


@blp.route("/deliveries/<string:delivery_id>/retry")
class RetryDelivery(MethodView):
    @auth.partner(blp, SCOPE)
    @blp.doc(operationId="retryWebhookDelivery")
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, delivery_id: str) -> Any:
        """Re-queue a failed delivery

        It gets a new round of the retry schedule, with the same webhook-id.
        """
        session = web.session()
        delivery = service.retry_delivery(
            session=session, partner_id=_partner_id(), delivery_id=delivery_id
        )
        session.commit()
        return delivery, 202

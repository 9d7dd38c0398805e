"""What is delivered is what the OpenAPI `webhooks` section documents.

A real `vigie worker` delivers one event of every type partners subscribe to, and a referral
to a shelter network's intake, to receivers on loopback; each body must validate against the
schema documented for its event, with every object closed (a field sent but not documented
fails), and carry the documented signature headers.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema_rs
import pytest

from content_payloads import item_body
from network_support import create_network, network_shelter, refer
from triage_support import claim, move, report
from vigie.webhooks.models import PARTNER_EVENT_TYPES
from webhook_receiver import payload_types

pytestmark = pytest.mark.slow
INTAKE_WEBHOOK = "referral.created (shelter_network intake)"


def _closed(node: Any) -> Any:
    """A copy of a schema in which an object with `properties` allows no other member."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: _closed(value) for key, value in node.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


def _validator(spec: dict[str, Any], webhook: str) -> Any:
    operation = spec["webhooks"][webhook]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    components = _closed(copy.deepcopy(spec["components"]))
    return jsonschema_rs.Draft202012Validator({**schema, "components": components})


def _headers(spec: dict[str, Any], webhook: str) -> set[str]:
    names = set()
    for parameter in spec["webhooks"][webhook]["post"]["parameters"]:
        name = parameter["$ref"].rsplit("/", 1)[1]
        names.add(spec["components"]["parameters"][name]["name"])
    return names


def _endpoint(client, partner, receiver, events) -> dict[str, Any]:
    response = client.post(
        "/v1/webhooks/endpoints",
        json={"url": receiver.url, "events": list(events)},
        headers=partner.headers,
    )
    assert response.status_code == 201, response.get_json()
    receiver.secrets.append(response.get_json()["secret"])
    return response.get_json()


def _make_every_event(app, client, partner, make_staff, post_report, hooks, gone, intake):
    """One event of each type, as partners, staff and the worker make them."""
    ours = _endpoint(client, partner, hooks, PARTNER_EVENT_TYPES)
    doomed = _endpoint(client, partner, gone, ["webhook.test"])
    network = create_network(app, intake.url)
    intake.secrets.append(network["signing_secret"])
    operator, editor, admin = make_staff(), make_staff("editor"), make_staff("admin")

    reviewed = report(post_report, partner, "schema-1")  # report.received
    assert claim(client, operator, reviewed).status_code == 200
    assert move(client, operator, reviewed, "in_review").status_code == 200  # status_changed
    referred = report(post_report, partner, "schema-2")
    refer(client, operator, referred, network_shelter(client, admin, network)["id"])
    item = client.post("/v1/admin/content", json=item_body(), headers=editor.headers)
    item_url = f"/v1/admin/content/{item.get_json()['id']}"
    for step in ("publish", "retire"):  # content.published, content.retired
        assert client.post(f"{item_url}/{step}", headers=editor.headers).status_code == 200
    for endpoint in (ours, doomed):  # webhook.test; the doomed one answers 410: disabled
        sent = client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
        assert sent.status_code == 202, sent.get_json()


def test_every_delivered_payload_validates_against_its_documented_schema(
    app, client, partner, make_staff, post_report, receivers, workers
):
    spec = client.get("/openapi.json").get_json()
    hooks, intake = receivers(), receivers()
    gone = receivers(behaviour=lambda _id, _nth, _all: (410, {}))
    _make_every_event(app, client, partner, make_staff, post_report, hooks, gone, intake)

    workers(app.extensions["vigie.config"])
    hooks.wait_for(lambda: set(payload_types(hooks)) >= set(PARTNER_EVENT_TYPES))
    intake.wait_for(lambda: len(intake.deliveries) == 1)

    received = [(delivery, delivery.payload["type"]) for delivery in hooks.deliveries]
    received += [(delivery, INTAKE_WEBHOOK) for delivery in intake.deliveries]
    checked = set()
    for delivery, webhook in received:
        assert delivery.verified_by, f"{webhook}: the signature does not verify"
        assert _headers(spec, webhook) <= set(delivery.headers), webhook
        body = json.loads(delivery.body)
        errors = [error.message for error in _validator(spec, webhook).iter_errors(body)]
        assert errors == [], f"{webhook}: {errors}\n{body}"
        checked.add(webhook)
    assert checked == {*PARTNER_EVENT_TYPES, INTAKE_WEBHOOK}


def test_a_field_sent_but_not_documented_fails_the_check(client):
    """The check above can fail: an extra member, or a missing one, is refused."""
    spec = client.get("/openapi.json").get_json()
    validator = _validator(spec, "webhook.test")
    sent = {
        "type": "webhook.test",
        "timestamp": "2026-11-26T21:40:00.123456Z",
        "data": {"endpoint_id": "whe_1", "message": "Test event from Vigie."},
    }
    assert validator.is_valid(sent)
    assert not validator.is_valid({**sent, "data": {**sent["data"], "partner": "p"}})
    assert not validator.is_valid({**sent, "data": {"endpoint_id": "whe_1"}})
    assert not validator.is_valid({**sent, "type": "report.received"})

"""The OpenAPI document is the contract: it names every operation, documents every route the
app serves (and only those: tests/security/test_api9_inventory.py), every parameter and header
the code reads, the 4xx each operation can answer, and the events partners receive
(`webhooks`).

Generated clients are built from it: tests/test_generated_client.py runs a partner's journey
through one; tests/webhooks/test_event_schemas.py checks real deliveries against `webhooks`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from flask_smorest.spec.plugins import FlaskPlugin

from vigie import integrations
from vigie.webhooks.models import PARTNER_EVENT_TYPES

METHODS = ("get", "put", "post", "patch", "delete")
CAMEL_CASE = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
# Served by the app but not API operations, hence not in the document. Decided here:
REQUEST_ID = "#/components/parameters/RequestId"


@pytest.fixture(scope="module")
def spec(session_app) -> dict[str, Any]:
    return session_app.test_client().get("/openapi.json").get_json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its `$ref` (a local JSON pointer) points at."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _deref(spec, target)


def _parameters(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> set[tuple[str, str]]:
    """(in, name) of every parameter of the operation, its path's included."""
    listed = spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
    return {(p["in"], p["name"]) for p in (_deref(spec, q) for q in listed)}


# -- names ------------------------------------------------------------------------


def test_every_operation_and_webhook_has_a_unique_readable_operation_id(spec):
    ids = [operation.get("operationId") for _, _, operation in _operations(spec)]
    ids += [item["post"].get("operationId") for item in spec["webhooks"].values()]
    assert None not in ids
    assert [i for i in ids if not CAMEL_CASE.match(i)] == []
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_the_names_partners_program_against_are_the_documented_ones(spec):
    """Renaming one breaks every generated client: these stay, whatever the paths become."""
    ids = {(path, method): op["operationId"] for path, method, op in _operations(spec)}
    assert ids[("/v1/reports", "post")] == "createReport"
    assert ids[("/v1/reports", "get")] == "listReports"
    assert ids[("/v1/reports/{report_id}", "get")] == "getReport"
    assert ids[("/v1/content", "get")] == "listContent"
    assert ids[("/v1/content/{item_id}", "get")] == "getContent"
    assert ids[("/v1/webhooks/endpoints", "post")] == "createWebhookEndpoint"
    assert ids[("/v1/webhooks/endpoints/{endpoint_id}/test", "post")] == "testWebhookEndpoint"


# -- parameters and headers ---------------------------------------------------------


def _query_fields(view: Any) -> set[str]:
    """The query parameters a view method parses (its `@blp.arguments(..., location="query")`)."""
    names = set()
    for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if argument.get("in") != "query":
            continue
        schema = argument["schema"]
        schema = schema() if isinstance(schema, type) else schema
        names |= {field.data_key or name for name, field in schema.fields.items()}
    return names


def test_every_query_parameter_a_view_parses_is_documented(session_app, spec):
    """A `@blp.doc(parameters=...)` once replaced the list built from the query schema: the
    content operations lost `audience`, `limit`, `cursor`, `updated_since`..."""
    checked = 0
    for rule in session_app.url_map.iter_rules():
        view_class = getattr(session_app.view_functions[rule.endpoint], "view_class", None)
        path = FlaskPlugin.flaskpath2openapi(rule.rule)
        if view_class is None or path not in spec["paths"]:
            continue
        for method in view_class.methods:
            wanted = _query_fields(getattr(view_class, method.lower()))
            operation = spec["paths"][path][method.lower()]
            documented = {name for where, name in _parameters(spec, path, operation)}
            assert wanted - documented == set(), f"{method} {path}"
            checked += len(wanted)
    assert checked > 40


def test_the_content_reads_document_their_filters_paging_and_validators(spec):
    listing = spec["paths"]["/v1/content"]
    names = {name for _, name in _parameters(spec, "/v1/content", listing["get"])}
    assert {"audience", "kind", "campaign", "locale", "updated_since", "limit", "cursor"} <= names
    assert {"If-None-Match", "If-Modified-Since", "Accept-Language"} <= names
    for path in ("/v1/content/feed.atom", "/v1/content/feed.json", "/v1/content/{item_id}"):
        names = {name for _, name in _parameters(spec, path, spec["paths"][path]["get"])}
        assert {"locale", "If-None-Match", "Accept-Language"} <= names, path


def test_the_headers_the_code_reads_are_documented_where_it_reads_them(spec):
    for path, method, operation in _operations(spec):
        parameters = _parameters(spec, path, operation)
        assert ("header", "X-Request-Id") in parameters, f"{method} {path}"  # app.py, always
    idempotent = {
        (path, method)
        for path, method, operation in _operations(spec)
        if ("header", "Idempotency-Key") in _parameters(spec, path, operation)
    }
    assert idempotent == {
        ("/v1/reports", "post"),
        ("/v1/reports/batch", "post"),
        ("/v1/integrations/{adapter}/reports", "post"),
    }


def test_the_request_id_sent_is_the_one_answered(client):
    answer = client.get("/healthz", headers={"X-Request-Id": "partner-42.a_b"})
    assert answer.headers["X-Request-Id"] == "partner-42.a_b"


# -- 4xx ----------------------------------------------------------------------------


def _statuses(operation: dict[str, Any]) -> set[int]:
    return {int(code) for code in operation["responses"] if code.isdigit()}


def test_each_operation_documents_the_4xx_its_shape_implies(spec):
    for path, method, operation in _operations(spec):
        where = f"{method.upper()} {path}"
        statuses = _statuses(operation)
        assert {414, 431} <= statuses, where
        if method in ("post", "put", "patch"):
            assert {413, 415, 422} <= statuses, where
        if "requestBody" in operation:
            assert 400 in statuses, where
        if "{" in path:
            assert 404 in statuses, where
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        if schemes:
            assert {401, 403} <= statuses, where
        if "partnerKey" in schemes:
            rate_limited = _deref(spec, operation["responses"]["429"])
            assert "Retry-After" in rate_limited["headers"], where
        for code in statuses - {304}:
            if code >= 400:
                response = _deref(spec, operation["responses"][str(code)])
                assert "application/problem+json" in response["content"], f"{where} {code}"


def test_every_partner_operation_documents_429(spec):
    partner = [
        (path, method)
        for path, method, operation in _operations(spec)
        if any("partnerKey" in r for r in operation.get("security", []))
    ]
    assert len(partner) >= 17
    assert [p for p in partner if 429 not in _statuses(spec["paths"][p[0]][p[1]])] == []


def test_a_body_on_an_operation_without_one_gets_the_documented_answers(client, partner, spec):
    """413 and 415 are documented on every write method: the app checks any body sent."""
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["webhook.test"]},
        headers=partner.headers,
    ).get_json()
    path = "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"
    url = path.replace("{endpoint_id}", endpoint["id"])
    wrong_type = client.post(url, data="x", content_type="text/plain", headers=partner.headers)
    too_large = client.post(
        url, data="x" * 300_000, content_type="application/json", headers=partner.headers
    )
    documented = _statuses(spec["paths"][path]["post"])
    got = {wrong_type.status_code, too_large.status_code}
    assert got == {413, 415}
    assert got <= documented


# -- webhooks -------------------------------------------------------------------------


def test_every_event_partners_and_shelter_networks_receive_is_in_webhooks(spec):
    webhooks = spec["webhooks"]
    types = {
        _deref(spec, item["post"]["requestBody"]["content"]["application/json"]["schema"])[
            "properties"
        ]["type"]["enum"][0]
        for item in webhooks.values()
    }
    assert set(PARTNER_EVENT_TYPES) <= types
    assert "referral.created" in types  # a shelter network's intake
    for name in integrations.available(integrations.Forwarder):
        forwarder = integrations.load(name, integrations.Forwarder)
        assert forwarder.data_schema() is not None, f"forwarder {name} documents no payload"
        assert f"referral.created ({name} intake)" in webhooks


def test_each_webhook_documents_the_standard_webhooks_signature_headers(spec):
    for name, item in spec["webhooks"].items():
        headers = {
            (p["in"], p["name"], p.get("required"))
            for p in (_deref(spec, q) for q in item["post"]["parameters"])
        }
        assert headers == {
            ("header", "webhook-id", True),
            ("header", "webhook-timestamp", True),
            ("header", "webhook-signature", True),
        }, name
        event = _deref(spec, item["post"]["requestBody"]["content"]["application/json"]["schema"])
        assert event["required"] == ["type", "timestamp", "data"], name
        assert "properties" in _deref(spec, event["properties"]["data"]), name

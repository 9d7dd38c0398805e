"""Request bodies: read only after authentication, nesting bounded, NUL refused where parsed."""

from __future__ import annotations

import io
import json
import re

import pytest

from payloads import stay_report

PROBLEM_JSON = "application/problem+json"
HTML_PREFIXES = ("embed", "console", "problems", "swagger_ui_asset", "static")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


class Untouchable(io.RawIOBase):
    """A request body that records any attempt to read it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):
        self.reads += 1
        data = b'{"a": 1}'[: len(buffer)]
        buffer[: len(data)] = data
        return len(data)


def api_routes(app):
    """(method, path) of every API operation taking a body, with placeholder ids."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(HTML_PREFIXES):
            continue
        for method in sorted(rule.methods & set(BODY_METHODS)):
            yield method, re.sub(r"<[^>]+>", "x", rule.rule)


def test_no_operation_reads_a_body_before_authenticating(app, client):
    """Two slow anonymous clients must not hold workers: nothing reads before the credential."""
    routes = list(api_routes(app))
    assert len(routes) > 10
    for method, path in routes:
        body = Untouchable()
        response = client.open(
            path,
            method=method,
            headers={"Content-Type": "application/json"},
            environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": "100"},
        )
        assert response.status_code == 401, (method, path, response.get_json())
        assert response.mimetype == PROBLEM_JSON
        assert body.reads == 0, (method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/reports",
        "/v1/reports/batch",
        "/v1/integrations/airbnb/reports",
        "/v1/webhooks/endpoints",
        "/v1/nothing-here",
        "/healthz",
    ],
)
@pytest.mark.parametrize("levels", [33, 1_000, 50_000])
def test_deep_nesting_is_never_a_500(client, partner, path, levels):
    for headers in ({}, partner.headers):
        response = client.post(
            path, data=nested(levels), headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code in (400, 401, 404, 405), (path, response.get_json())
        assert response.mimetype == PROBLEM_JSON
        if not headers:
            assert response.status_code != 400  # the body of an anonymous request is not read


@pytest.mark.parametrize(
    "path", ["/v1/reports", "/v1/reports/batch", "/v1/integrations/airbnb/reports"]
)
@pytest.mark.parametrize("levels", [33, 1_000])
def test_too_deep_a_body_is_a_400_naming_the_problem(client, partner, path, levels):
    response = client.post(
        path, data=nested(levels), headers={**partner.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["type"] == "/problems/json-too-deep"
    assert "32 levels" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "#"
    assert client.get("/v1/reports", headers=partner.headers).get_json() == []


def test_the_depth_limit_is_a_setting(make_app, make_partner):
    app = make_app(max_json_depth=2)  # a report is two levels deep: {"stay": {...}}
    from vigie.db import Database  # noqa: F401 - the fixtures' tables are shared

    client = app.test_client()
    partner = make_partner()
    assert (
        client.post("/v1/reports", json=stay_report(), headers=partner.headers).status_code == 201
    )
    deeper = stay_report(stay={**stay_report()["stay"], "listing_reference": ["x"]})
    response = client.post("/v1/reports", json=deeper, headers=partner.headers)
    assert response.status_code == 400
    assert "2 levels" in response.get_json()["detail"]


def test_nesting_at_the_limit_is_parsed(client, partner):
    response = client.post(
        "/v1/reports",
        data=nested(32),
        headers={**partner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422  # read and found not to be a report


def test_nul_is_refused_where_the_body_is_parsed_naming_the_field(client, partner):
    body = stay_report(description="before\u0000after")
    response = client.post("/v1/reports", json=body, headers=partner.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "#/description"
    anonymous = client.post("/v1/reports", json=body)
    assert anonymous.status_code == 401


def test_an_idempotent_retry_of_a_too_deep_body_is_a_400(client, partner):
    headers = {**partner.headers, "Content-Type": "application/json", "Idempotency-Key": "deep-1"}
    for _ in range(2):
        response = client.post("/v1/reports", data=nested(2_000), headers=headers)
        assert response.status_code == 400
        assert response.get_json()["type"] == "/problems/json-too-deep"


def test_a_body_over_the_limit_is_413_from_its_length(client, partner):
    body = json.dumps(stay_report()) + " " * (300 * 1024)
    response = client.post(
        "/v1/reports", data=body, headers={**partner.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json()["type"] == "/problems/payload-too-large"
    assert response.get_json()["detail"] == "The body is larger than 262144 bytes."
    assert client.get("/v1/reports", headers=partner.headers).get_json() == []

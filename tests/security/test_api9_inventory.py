"""OWASP API9:2023 Improper Inventory Management: what the app serves is what the OpenAPI
document says, route for route; the few routes left out of it are named here with the reason,
and are pages or operators' endpoints, never partner operations."""

from __future__ import annotations

from typing import Any

import pytest
from flask_smorest.spec.plugins import FlaskPlugin

METHODS = ("get", "put", "post", "patch", "delete")
NOT_OPERATIONS = {
    "/openapi.json": "the document itself",
    "/docs": "the interactive reference (Swagger UI), an HTML page",
    "/static/": "the Swagger UI's assets",
    "/console/": "the staff console: HTML pages behind a login session and CSRF tokens",
    "/embed/": "the embeddable report form and button: HTML and JavaScript for the public",
    "/problems/": "the human pages that problem `type` URIs resolve to",
    "/metrics": "Prometheus figures for operators, only with VIGIE_METRICS_TOKEN (vigie.metrics)",
}


@pytest.fixture(scope="module")
def spec(session_app) -> dict[str, Any]:
    return session_app.test_client().get("/openapi.json").get_json()


def _documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def _served(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every API route the app serves."""
    served = set()
    for rule in app.url_map.iter_rules():
        if any(
            rule.rule == prefix or (prefix.endswith("/") and rule.rule.startswith(prefix))
            for prefix in NOT_OPERATIONS
        ):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((FlaskPlugin.flaskpath2openapi(rule.rule), method.lower()))
    return served


# -- routes -----------------------------------------------------------------------


def test_every_route_served_is_documented_and_every_documented_route_is_served(session_app, spec):
    served = _served(session_app)
    documented = _documented(spec)
    assert served - documented == set(), "served but not in the OpenAPI document"
    assert documented - served == set(), "in the OpenAPI document but not served"


def test_the_pages_left_out_of_the_document_are_served_and_are_pages(session_app):
    """The exclusions name real routes (so a typo cannot hide an API route)."""
    rules = [rule.rule for rule in session_app.url_map.iter_rules()]
    for prefix in set(NOT_OPERATIONS) - {"/metrics"}:  # served with a token only: see below
        assert any(rule == prefix or rule.startswith(prefix) for rule in rules), prefix
    assert not [rule for rule in rules if rule.startswith("/v1/") and "console" in rule]


def test_with_metrics_on_the_only_new_route_is_the_operators_one(make_app, spec):
    app = make_app(metrics_token="t" * 32)
    assert _served(app) - _documented(spec) == set()
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/metrics" in rules
    assert app.test_client().get("/metrics").status_code == 401


def test_no_old_or_shadow_version_is_served(session_app):
    rules = [rule.rule for rule in session_app.url_map.iter_rules()]
    versions = {rule.split("/")[1] for rule in rules if rule.startswith("/v")}
    assert versions == {"v1"}

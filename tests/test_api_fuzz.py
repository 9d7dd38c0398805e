"""Property-based tests of every documented operation, with schemathesis.

Requests are generated from the app's own OpenAPI document (valid and invalid
ones) and sent through the WSGI app, with a credential that passes the
operation's documented security requirement. For every response: no 5xx, each
4xx is an RFC 9457 problem document whose `status` is the HTTP status, and the
status code, content type and body match what the operation documents.

A little data is seeded first so item routes are also called with real ids.
Examples are derandomized and few per operation, so a run is reproducible and
fast; the test is parametrized from openapi/openapi.json (which
tests/test_health.py keeps equal to what the app serves).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from content_payloads import item_body
from fuzz_support import CHECKS, cases
from network_support import create_network, network_shelter
from triage_support import claim, report

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = json.loads((ROOT / "openapi" / "openapi.json").read_text())
EXAMPLES = 100
METHODS = ("get", "put", "post", "patch", "delete")
OPERATIONS = [
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method in METHODS
]


def _role_for(needs: list[str]) -> str:
    """The staff role to call with: one the documented requirement accepts."""
    if "admin" in needs:
        return "admin"
    if "editor" in needs:
        return "editor"
    return "supervisor"  # a supervisor holds the operator role too


@pytest.fixture
def seeded(app, client, partner, make_staff, post_report) -> dict[str, Any]:
    """One of each thing an item route names, and the credentials to reach them."""
    staff = {role: make_staff(role) for role in ("supervisor", "editor", "admin")}
    report_id = report(post_report, partner, "fuzz-1")
    other_report = report(post_report, partner, "fuzz-2")
    network = create_network(app, "http://127.0.0.1:9/intake")
    target = network_shelter(client, staff["admin"], network, name="SIAO 13")
    assert claim(client, staff["supervisor"], report_id).status_code == 200
    referral = client.post(
        f"/v1/triage/reports/{report_id}/referrals",
        json={"target_type": "emergency_shelter", "shelter_id": target["id"]},
        headers=staff["supervisor"].headers,
    )
    assert referral.status_code == 201, referral.get_json()
    item = client.post("/v1/admin/content", json=item_body(), headers=staff["editor"].headers)
    assert item.status_code == 201, item.get_json()
    published = client.post(
        f"/v1/admin/content/{item.get_json()['id']}/publish", headers=staff["editor"].headers
    )
    assert published.status_code == 200, published.get_json()
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["webhook.test"]},
        headers=partner.headers,
    )
    assert endpoint.status_code == 201, endpoint.get_json()
    ids = {
        "report_id": [report_id, other_report],
        "referral_id": [referral.get_json()["id"]],
        "shelter_id": [target["id"]],
        "item_id": [item.get_json()["id"]],
        "endpoint_id": [endpoint.get_json()["id"]],
    }
    return {"ids": ids, "partner": partner, "staff": staff, "network": network}


@pytest.fixture(scope="module")
def api_schema(session_app) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", session_app)


def _headers(operation: dict[str, Any], seeded: dict[str, Any]) -> dict[str, str]:
    for requirement in operation.get("security", []):
        for scheme, needs in requirement.items():
            if scheme == "partnerKey":
                return seeded["partner"].headers
            if scheme == "networkKey":
                return seeded["network"].headers
            return seeded["staff"][_role_for(needs)].headers
    return {}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_honours_its_documentation(method, path, api_schema, seeded):
    operation = api_schema[path][method]
    headers = _headers(DOCUMENT["paths"][path][method.lower()], seeded)
    item = DOCUMENT["paths"][path]
    listed = item.get("parameters", []) + item[method.lower()].get("parameters", [])
    names = [p["name"] for p in listed if "name" in p]  # path ones are the path item's
    real = {name: seeded["ids"][name] for name in names if name in seeded["ids"]}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        # Health checks judge the generator's speed and filtering, not the API; the bound
        # that matters here is the fixed number of examples.
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation, headers, real))
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    check()

"""OWASP API1:2023 Broken Object Level Authorization: a caller addressing another owner's
object by its id gets exactly the answer a missing id gets, and nothing changes.

The id-bearing routes are read from the app's URL map and the ids in request bodies from the
OpenAPI document: a new route or body field that takes an id fails
`test_every_id_route_has_an_owner_and_a_case` until it is classified below and, when its
objects have an owner, given a case.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select, update

from content_payloads import item_body
from network_support import cli, create_network, network_shelter, refer, send_outcome
from payloads import stay_report
from snapshot_support import snapshot
from triage_support import report, shelter
from vigie.ids import new_id
from vigie.webhooks import dispatch
from vigie.webhooks.models import WebhookDelivery, WebhookEndpoint

# Who may address the objects behind each route that takes an id in its path.
# partner: a partner's own objects (a case in PARTNER_ROUTES below);
# published: content, the same for every partner once published (drafts: a case below);
# format: the name of an installed adapter, open to every partner (its reports are the
#   caller's own: a case below); staff: MIPROF's objects, open to every staff member whose
#   role allows the operation (API5), nested ids checked below; public: anyone.
ID_ROUTES = {
    ("GET", "/v1/reports/<string:report_id>"): "partner",
    ("GET", "/v1/webhooks/endpoints/<string:endpoint_id>"): "partner",
    ("PATCH", "/v1/webhooks/endpoints/<string:endpoint_id>"): "partner",
    ("DELETE", "/v1/webhooks/endpoints/<string:endpoint_id>"): "partner",
    ("GET", "/v1/webhooks/endpoints/<string:endpoint_id>/deliveries"): "partner",
    ("POST", "/v1/webhooks/endpoints/<string:endpoint_id>/rotate-secret"): "partner",
    ("POST", "/v1/webhooks/endpoints/<string:endpoint_id>/test"): "partner",
    ("POST", "/v1/webhooks/deliveries/<string:delivery_id>/retry"): "partner",
    ("GET", "/v1/content/<string:item_id>"): "published",
    ("POST", "/v1/integrations/<string:adapter>/reports"): "format",
    ("GET", "/v1/triage/reports/<string:report_id>"): "staff",
    ("POST", "/v1/triage/reports/<string:report_id>/claim"): "staff",
    ("POST", "/v1/triage/reports/<string:report_id>/release"): "staff",
    ("POST", "/v1/triage/reports/<string:report_id>/notes"): "staff",
    ("POST", "/v1/triage/reports/<string:report_id>/transitions"): "staff",
    ("GET", "/v1/triage/reports/<string:report_id>/referrals"): "staff",
    ("POST", "/v1/triage/reports/<string:report_id>/referrals"): "staff",
    ("PATCH", "/v1/triage/reports/<string:report_id>/referrals/<string:referral_id>"): "staff",
    ("GET", "/v1/triage/reports/<string:report_id>/shelter-suggestions"): "staff",
    ("GET", "/v1/shelters/<string:shelter_id>"): "staff",
    ("PATCH", "/v1/shelters/<string:shelter_id>"): "staff",
    ("GET", "/v1/admin/content/<string:item_id>"): "staff",
    ("PATCH", "/v1/admin/content/<string:item_id>"): "staff",
    ("POST", "/v1/admin/content/<string:item_id>/publish"): "staff",
    ("POST", "/v1/admin/content/<string:item_id>/retire"): "staff",
    ("GET", "/console/reports/<string:report_id>"): "staff",
    ("POST", "/console/reports/<string:report_id>/claim"): "staff",
    ("POST", "/console/reports/<string:report_id>/close"): "staff",
    ("POST", "/console/reports/<string:report_id>/notes"): "staff",
    ("POST", "/console/reports/<string:report_id>/referrals"): "staff",
    ("POST", "/console/reports/<string:report_id>/release"): "staff",
    ("POST", "/console/reports/<string:report_id>/reopen"): "staff",
    ("POST", "/console/reports/<string:report_id>/review"): "staff",
    ("POST", "/console/reports/<string:report_id>/takeover"): "staff",
    ("POST", "/console/accounts/<string:operator_id>/disable"): "staff",
    ("GET", "/console/contents/<string:item_id>"): "staff",
    ("POST", "/console/contents/<string:item_id>/publish"): "staff",
    ("POST", "/console/contents/<string:item_id>/retire"): "staff",
    ("POST", "/console/contents/<string:item_id>/translation"): "staff",
    ("POST", "/console/shelters/<string:shelter_id>/capacity"): "staff",
    ("GET", "/embed/<partner_slug>/button.js"): "public",
    ("GET", "/embed/<partner_slug>/report"): "public",
    ("POST", "/embed/<partner_slug>/report"): "public",
    ("GET", "/problems/<slug>"): "public",
}
# Ids sent in request bodies (schema.property), with who may address them.
BODY_IDS = {
    "NetworkOutcomeArgs.referral_id": "network",  # test_a_network_acts_only_on_its_referrals
    "ReferralArgs.shelter_id": "staff",  # any shelter of the directory
}
# Path variables that name files or pages, not objects.
NOT_IDS = {"filename"}


def _id_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.arguments - NOT_IDS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _body_ids(spec: dict[str, Any]) -> set[str]:
    found = set()
    for name, schema in spec["components"]["schemas"].items():
        for prop in schema.get("properties", {}):
            if prop == "id" or prop.endswith("_id"):
                found.add(f"{name}.{prop}")
    bodies = {
        media["schema"]["$ref"].rsplit("/", 1)[-1]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "requestBody" in op
        for media in op["requestBody"]["content"].values()
        if "$ref" in media.get("schema", {})
    }
    return {f for f in found if f.split(".")[0] in bodies}


def test_every_id_route_has_an_owner_and_a_case(app, client):
    assert _id_routes(app) == set(ID_ROUTES)
    partner_routes = {route for route, owner in ID_ROUTES.items() if owner == "partner"}
    assert partner_routes == set(PARTNER_ROUTES)
    assert _body_ids(client.get("/openapi.json").get_json()) == set(BODY_IDS)


# -- what "nothing changed" and "the same answer" mean ------------------------------------


# Per request, whatever the object: left out of the comparison.
PER_REQUEST = {"request_id"}


def answer(response, object_id: str) -> tuple[int, str | None, Any, set[str]]:
    """Status, media type, body (the id addressed replaced by `{id}`) and header names."""
    text = response.get_data(as_text=True).replace(object_id, "{id}")
    body: Any = text
    if response.is_json:
        body = {k: v for k, v in json.loads(text).items() if k not in PER_REQUEST}
    return response.status_code, response.mimetype, body, set(response.headers.keys())


def assert_like_missing(client, db, method, url_of, foreign_id, prefix, headers, **kwargs):
    """`headers` addressing `foreign_id` is answered as for a missing id, and changes nothing."""
    missing_id = new_id(prefix)
    before = snapshot(db)
    foreign = client.open(url_of(foreign_id), method=method, headers=headers, **kwargs)
    assert snapshot(db) == before, f"{method} {url_of(foreign_id)} changed stored rows"
    missing = client.open(url_of(missing_id), method=method, headers=headers, **kwargs)
    assert foreign.status_code == 404, foreign.get_data(as_text=True)
    assert answer(foreign, foreign_id) == answer(missing, missing_id)
    assert foreign.mimetype == "application/problem+json"
    return foreign


# -- partners' own objects ---------------------------------------------------------------

# Each partner route: the id it addresses (prefix, name in `owned`) and the body it sends.
PARTNER_ROUTES = {
    ("GET", "/v1/reports/<string:report_id>"): ("report_id", None),
    ("GET", "/v1/webhooks/endpoints/<string:endpoint_id>"): ("endpoint_id", None),
    ("PATCH", "/v1/webhooks/endpoints/<string:endpoint_id>"): (
        "endpoint_id",
        {"description": "taken over", "enabled": False, "url": "http://127.0.0.1:9/b"},
    ),
    ("DELETE", "/v1/webhooks/endpoints/<string:endpoint_id>"): ("endpoint_id", None),
    ("GET", "/v1/webhooks/endpoints/<string:endpoint_id>/deliveries"): ("endpoint_id", None),
    ("POST", "/v1/webhooks/endpoints/<string:endpoint_id>/rotate-secret"): ("endpoint_id", None),
    ("POST", "/v1/webhooks/endpoints/<string:endpoint_id>/test"): ("endpoint_id", None),
    ("POST", "/v1/webhooks/deliveries/<string:delivery_id>/retry"): ("delivery_id", None),
}
PREFIX = {"report_id": "rep", "endpoint_id": "whe", "delivery_id": "whd"}
OWNER_SUCCESS = {"GET": 200, "PATCH": 200, "DELETE": 204, "POST": (200, 202)}


@pytest.fixture
def owned(app, db, client, make_partner, post_report):
    """Partner A's report, webhook endpoint and failed delivery; partner B with every scope."""
    a, b = make_partner("Plateforme A"), make_partner("Plateforme B")
    report_id = post_report(a, stay_report(partner_reference="A-1")).get_json()["id"]
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/a", "events": ["report.received", "webhook.test"]},
        headers=a.headers,
    ).get_json()
    assert post_report(a, stay_report(partner_reference="A-2")).status_code == 201
    with db.unit() as session:
        dispatch.fan_out(session=session, is_sqlite=db.is_sqlite)
    with db.unit() as session:
        delivery_id = session.scalar(select(WebhookDelivery.public_id))
        session.execute(update(WebhookDelivery).values(status="failed", next_attempt_at=None))
    assert delivery_id is not None
    return {
        "a": a,
        "b": b,
        "report_id": report_id,
        "endpoint_id": endpoint["id"],
        "delivery_id": delivery_id,
    }


def _url(rule: str, name: str):
    return lambda object_id: re.sub(r"<(?:string:)?" + name + ">", object_id, rule)


@pytest.mark.parametrize(("method", "rule"), list(PARTNER_ROUTES))
def test_another_partners_object_is_answered_as_a_missing_one(client, db, owned, method, rule):
    name, body = PARTNER_ROUTES[(method, rule)]
    url_of = _url(rule, name)
    kwargs = {"json": body} if body is not None else {}
    b = owned["b"]
    assert_like_missing(client, db, method, url_of, owned[name], PREFIX[name], b.headers, **kwargs)
    # The case can fail: the same request by the owner reaches the object.
    mine = client.open(url_of(owned[name]), method=method, headers=owned["a"].headers, **kwargs)
    expected = OWNER_SUCCESS[method]
    assert mine.status_code in (expected if isinstance(expected, tuple) else (expected,))


@pytest.fixture
def unowned(app, db, client, owned, make_staff, post_report):
    """MIPROF's own endpoint and a shelter network's intake, each with a failed delivery."""
    miprof = cli(
        app,
        "webhooks",
        "create",
        "--url",
        "http://127.0.0.1:9/m",
        "--events",
        "report.received,referral.created",
        "--json",
    )
    network = create_network(app, "http://127.0.0.1:9/n", name="Réseau N")
    target = network_shelter(client, make_staff("admin"), network)
    refer(client, make_staff("operator"), report(post_report, owned["a"], "U-1"), target["id"])
    with db.unit() as session:
        dispatch.fan_out(session=session, is_sqlite=db.is_sqlite)
    found = {}
    with db.unit() as session:
        session.execute(update(WebhookDelivery).values(status="failed", next_attempt_at=None))
        for endpoint_id in (miprof["id"], network["intake"]["endpoint_id"]):
            found[endpoint_id] = session.scalar(
                select(WebhookDelivery.public_id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookEndpoint.public_id == endpoint_id)
            )
    assert all(found.values()), found
    return found  # endpoint id -> a delivery id


@pytest.mark.parametrize(
    ("method", "rule"), [r for r, (name, _) in PARTNER_ROUTES.items() if name != "report_id"]
)
def test_miprof_and_network_endpoints_are_answered_to_partners_as_missing(
    client, db, owned, unowned, method, rule
):
    name, body = PARTNER_ROUTES[(method, rule)]
    kwargs = {"json": body} if body is not None else {}
    url_of = _url(rule, name)
    for endpoint_id, delivery_id in unowned.items():
        target = endpoint_id if name == "endpoint_id" else delivery_id
        a = owned["a"]
        assert_like_missing(client, db, method, url_of, target, PREFIX[name], a.headers, **kwargs)


def test_lists_hold_only_the_callers_objects(client, owned):
    b = owned["b"]
    assert client.get("/v1/reports", headers=b.headers).get_json() == []
    assert client.get("/v1/webhooks/endpoints", headers=b.headers).get_json() == []
    a_reports = client.get("/v1/reports", headers=owned["a"].headers).get_json()
    assert owned["report_id"] in [r["id"] for r in a_reports]


def test_a_partner_reference_is_the_partners_own(client, db, owned, post_report):
    """B sending A's partner_reference makes B's report: no 409 naming A's report."""
    b = owned["b"]
    mine = post_report(b, stay_report(partner_reference="A-1"))
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["id"] != owned["report_id"]
    assert owned["report_id"] not in mine.get_data(as_text=True)
    batch = client.post(
        "/v1/reports/batch",
        json={"reports": [stay_report(partner_reference="A-2")]},
        headers=b.headers,
    )
    assert batch.status_code == 200
    (result,) = batch.get_json()["results"]
    assert result["status"] == 201, result
    # The report B made is B's: A cannot read it.
    foreign = client.get(f"/v1/reports/{result['id']}", headers=owned["a"].headers)
    assert foreign.status_code == 404


def test_an_idempotency_key_is_the_partners_own(client, owned):
    """A key B reuses after A is another key: neither A's stored answer nor a 422/409."""
    a, b = owned["a"], owned["b"]
    # B sends A's key with A's very body, then another of A's keys with another body.
    for number, b_body in ((1, "same"), (2, "other")):
        key = {"Idempotency-Key": f"shared-key-{number}"}
        body = stay_report(partner_reference=f"IDEM-{number}")
        first = client.post("/v1/reports", json=body, headers={**a.headers, **key})
        assert first.status_code == 201
        sent = body if b_body == "same" else stay_report(partner_reference=f"IDEM-B-{number}")
        other = client.post("/v1/reports", json=sent, headers={**b.headers, **key})
        assert other.status_code == 201, other.get_json()
        assert "Idempotent-Replayed" not in other.headers
        assert first.get_json()["id"] not in other.get_data(as_text=True)
        again = client.post("/v1/reports", json=body, headers={**a.headers, **key})
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()


def test_an_adapters_reports_belong_to_the_partner_that_sent_them(client, owned):
    from adapter_support import REFERENCE_FIELD, post_native, sample

    a, b = owned["a"], owned["b"]
    native = sample("airbnb")
    sent = post_native(client, a, "airbnb", native)
    assert sent.status_code == 201, sent.get_json()
    # The same native reference from B is B's own report, not a 409 naming A's.
    twin = post_native(client, b, "airbnb", native)
    assert twin.status_code == 201, twin.get_json()
    assert sent.get_json()["id"] not in twin.get_data(as_text=True)
    assert native[REFERENCE_FIELD["airbnb"]] == twin.get_json()["partner_reference"]
    missing_id = new_id("rep")
    missing = client.get(f"/v1/reports/{missing_id}", headers=b.headers)
    foreign = client.get(f"/v1/reports/{sent.get_json()['id']}", headers=b.headers)
    assert answer(foreign, sent.get_json()["id"]) == answer(missing, missing_id)
    assert foreign.status_code == 404


def test_a_draft_is_answered_to_partners_as_a_missing_item(client, db, make_staff, partner):
    editor = make_staff("editor")
    draft = client.post("/v1/admin/content", json=item_body(), headers=editor.headers)
    assert draft.status_code == 201, draft.get_json()
    draft_id = draft.get_json()["id"]
    prefix = draft_id.split("_", 1)[0]
    url_of = _url("/v1/content/<string:item_id>", "item_id")
    assert_like_missing(client, db, "GET", url_of, draft_id, prefix, partner.headers)
    published = client.post(f"/v1/admin/content/{draft_id}/publish", headers=editor.headers)
    assert published.status_code == 200, published.get_json()
    assert client.get(url_of(draft_id), headers=partner.headers).status_code == 200


# -- shelter networks and staff ---------------------------------------------------------


@pytest.fixture
def referrals(app, client, partner, make_staff, post_report):
    """Networks A and B; a referral forwarded to A and one to a shelter of no network."""
    admin, operator = make_staff("admin"), make_staff("operator")
    net_a = create_network(app, "http://127.0.0.1:9/a", name="Réseau A")
    net_b = create_network(app, "http://127.0.0.1:9/b", name="Réseau B")
    to_a = refer(
        client,
        operator,
        report(post_report, partner, "NET-A"),
        network_shelter(client, admin, net_a)["id"],
    )
    loose = shelter(client, admin, name="Hors réseau")
    other_report = report(post_report, partner, "NET-0")
    to_none = refer(client, operator, other_report, loose["id"])
    return {
        "a": net_a,
        "b": net_b,
        "to_a": to_a,
        "to_none": to_none,
        "other_report": other_report,
        "operator": operator,
    }


def test_a_network_acts_only_on_its_referrals(client, db, referrals):
    net_a, net_b = referrals["a"], referrals["b"]
    for network, referral in ((net_b, referrals["to_a"]), (net_a, referrals["to_none"])):
        before = snapshot(db)
        foreign = send_outcome(client, network, referral["id"], "accepted")
        assert snapshot(db) == before
        missing_id = new_id("ref")
        missing = send_outcome(client, network, missing_id, "accepted")
        assert foreign.status_code == 404
        assert answer(foreign, referral["id"]) == answer(missing, missing_id)
    # The case can fail: network A reaches its own referral.
    assert send_outcome(client, net_a, referrals["to_a"]["id"], "accepted").status_code == 200


def test_a_referral_is_found_only_under_its_own_report(client, db, referrals):
    operator = referrals["operator"]
    to_a, other_report = referrals["to_a"], referrals["other_report"]

    def url_of(referral_id: str) -> str:
        return f"/v1/triage/reports/{other_report}/referrals/{referral_id}"

    body = {"json": {"status": "declined"}}
    assert_like_missing(client, db, "PATCH", url_of, to_a["id"], "ref", operator.headers, **body)

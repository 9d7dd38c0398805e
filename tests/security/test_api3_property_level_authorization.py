"""OWASP API3:2023 Broken Object Property Level Authorization.

- Mass assignment: every write operation of the OpenAPI document refuses a property it does
  not document (the schemas say `additionalProperties: false`) with a 422 naming it, and
  stores nothing. The properties tried are the server's own (ids, status, priority, owner,
  timestamps, secrets) and every property of the operation's own answer that its body does
  not take, so a new response field is tried as soon as it exists.
- Excessive exposure: a report that operators claimed, noted, moved, referred and closed is
  seen by its partner only through the documented partner fields (exact key sets against the
  partner schemas of the document), and no operator data appears anywhere in what the partner
  reads or is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from adapter_support import ADAPTERS, sample
from content_payloads import item_body
from doc_blocks import ROOT
from network_support import create_network, network_shelter, refer, send_outcome
from payloads import stay_report
from snapshot_support import snapshot
from triage_support import claim, move, report, shelter
from vigie.outbox.models import OutboxEvent
from vigie.reports.models import COARSE_STATUSES, INTERNAL_STATUSES
from vigie.webhooks import dispatch
from vigie.webhooks.models import PARTNER_EVENT_TYPES, WebhookDelivery, WebhookEndpoint

# Properties only the server sets, tried on every write operation that does not document them.
SERVER_OWNED = {
    "id": "rep_aaaaaaaaaaaaaaaa",
    "public_id": "rep_aaaaaaaaaaaaaaaa",
    "status": "closed",
    "priority": "P1",
    "received_at": "2020-01-01T00:00:00+00:00",
    "created_at": "2020-01-01T00:00:00+00:00",
    "updated_at": "2020-01-01T00:00:00+00:00",
    "due_at": "2020-01-01T00:00:00+00:00",
    "partner_id": "ptn_aaaaaaaaaaaaaaaa",
    "partner": "ptn_aaaaaaaaaaaaaaaa",
    "operator_id": "opr_aaaaaaaaaaaaaaaa",
    "claimed_by": "opr_aaaaaaaaaaaaaaaa",
    "author": "opr_aaaaaaaaaaaaaaaa",
    "channel": "form",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "enabled": True,
    "deleted_at": "2020-01-01T00:00:00+00:00",
    "published_at": "2020-01-01T00:00:00+00:00",
    "shelter_network_id": 1,
    "links": {"self": "/v1/reports/rep_aaaaaaaaaaaaaaaa"},
}


# -- the document -----------------------------------------------------------------------


@pytest.fixture
def spec(client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").get_json()
    return document


def _schema(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref and allOf resolved (properties merged)."""
    if "$ref" in ref:
        ref = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
    merged = {**ref, "properties": dict(ref.get("properties", {}))}
    for part in ref.get("allOf", []):
        merged["properties"].update(_schema(spec, part)["properties"])
    return merged


def properties(spec: dict[str, Any], name: str) -> set[str]:
    return set(_schema(spec, {"$ref": f"#/components/schemas/{name}"})["properties"])


def write_operations(spec: dict[str, Any]) -> dict[tuple[str, str], tuple[dict, set[str]]]:
    """(METHOD, path) -> (request schema, properties of its 2xx answers)."""
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            (media,) = operation["requestBody"]["content"].values()
            answers: set[str] = set()
            for status, response in operation["responses"].items():
                for content in response.get("content", {}).values() if status[0] == "2" else ():
                    answers |= set(_schema(spec, content["schema"])["properties"])
            found[(method.upper(), path)] = (_schema(spec, media["schema"]), answers)
    return found


# -- one valid request per write operation --------------------------------------------------


@dataclass
class Write:
    headers: dict[str, str]
    url: str
    body: dict[str, Any]
    succeeds: int


SHELTER = {
    "name": "SIAO 13",
    "type": "emergency_shelter",
    "departments": ["13"],
    "accepts": ["women"],
    "capacity_total": 10,
    "capacity_available": 3,
}


@pytest.fixture
def world(app, client, partner, make_staff, post_report):
    """Callers and objects the write operations act on."""
    staff = {r: make_staff(r) for r in ("operator", "admin", "editor")}

    class World:
        pass

    w = World()
    w.app, w.client, w.partner, w.post_report = app, client, partner, post_report
    w.operator, w.admin, w.editor = staff["operator"], staff["admin"], staff["editor"]
    return w


def _claimed(w, ref: str) -> str:
    rid = report(w.post_report, w.partner, ref)
    assert claim(w.client, w.operator, rid).status_code == 200
    return rid


def _partner_writes(w) -> dict[tuple[str, str], Callable[[], Write]]:
    p = w.partner.headers
    return {
        ("POST", "/v1/reports"): lambda: Write(p, "/v1/reports", stay_report(), 201),
        ("POST", "/v1/reports/batch"): lambda: Write(
            p, "/v1/reports/batch", {"reports": [stay_report()]}, 200
        ),
        ("POST", "/v1/integrations/{adapter}/reports"): lambda: Write(
            p, "/v1/integrations/airbnb/reports", sample("airbnb"), 201
        ),
        ("POST", "/v1/webhooks/endpoints"): lambda: Write(
            p,
            "/v1/webhooks/endpoints",
            {"url": "http://127.0.0.1:9/h", "events": ["report.received"]},
            201,
        ),
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): lambda: Write(
            p, f"/v1/webhooks/endpoints/{_endpoint(w)}", {"description": "Réception"}, 200
        ),
    }


def _endpoint(w) -> str:
    created = w.client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/h", "events": ["report.received"]},
        headers=w.partner.headers,
    )
    assert created.status_code == 201
    return str(created.get_json()["id"])


def _triage_writes(w) -> dict[tuple[str, str], Callable[[], Write]]:
    o = w.operator.headers
    base = "/v1/triage/reports/{report_id}"

    def referral() -> Write:
        rid = report(w.post_report, w.partner, "REF-PATCH")
        target = shelter(w.client, w.admin)
        made = refer(w.client, w.operator, rid, target["id"])
        return Write(
            o, f"/v1/triage/reports/{rid}/referrals/{made['id']}", {"status": "accepted"}, 200
        )

    def referral_post() -> Write:
        target = shelter(w.client, w.admin)
        body = {"target_type": "emergency_shelter", "shelter_id": target["id"]}
        return Write(o, f"/v1/triage/reports/{_claimed(w, 'REF')}/referrals", body, 201)

    return {
        ("POST", base + "/claim"): lambda: Write(
            o, f"/v1/triage/reports/{report(w.post_report, w.partner, 'CL')}/claim", {}, 200
        ),
        ("POST", base + "/transitions"): lambda: Write(
            o, f"/v1/triage/reports/{_claimed(w, 'TR')}/transitions", {"to": "in_review"}, 200
        ),
        ("POST", base + "/notes"): lambda: Write(
            o, f"/v1/triage/reports/{_claimed(w, 'NO')}/notes", {"body": "Rappeler."}, 201
        ),
        ("POST", base + "/referrals"): referral_post,
        ("PATCH", base + "/referrals/{referral_id}"): referral,
        ("POST", "/v1/integrations/shelter_network/outcomes"): lambda: _network_outcome(w),
    }


def _network_outcome(w) -> Write:
    network = create_network(w.app, "http://127.0.0.1:9/intake")
    target = network_shelter(w.client, w.admin, network)
    made = refer(w.client, w.operator, report(w.post_report, w.partner, "NET"), target["id"])
    body = {"referral_id": made["id"], "outcome": "accepted"}
    return Write(network.headers, "/v1/integrations/shelter_network/outcomes", body, 200)


def _admin_writes(w) -> dict[tuple[str, str], Callable[[], Write]]:
    a, e = w.admin.headers, w.editor.headers

    def draft() -> str:
        made = w.client.post("/v1/admin/content", json=item_body(), headers=e)
        assert made.status_code == 201
        return str(made.get_json()["id"])

    return {
        ("POST", "/v1/shelters"): lambda: Write(a, "/v1/shelters", dict(SHELTER), 201),
        ("PATCH", "/v1/shelters/{shelter_id}"): lambda: Write(
            a, f"/v1/shelters/{shelter(w.client, w.admin)['id']}", {"capacity_available": 2}, 200
        ),
        ("POST", "/v1/admin/content"): lambda: Write(e, "/v1/admin/content", item_body(), 201),
        ("PATCH", "/v1/admin/content/{item_id}"): lambda: Write(
            e, f"/v1/admin/content/{draft()}", {"kind": "briefing"}, 200
        ),
    }


def writes(w) -> dict[tuple[str, str], Callable[[], Write]]:
    return {**_partner_writes(w), **_triage_writes(w), **_admin_writes(w)}


def test_every_write_operation_has_a_case(spec, world):
    assert set(writes(world)) == set(write_operations(spec))


def test_request_schemas_refuse_what_they_do_not_document(spec):
    """The document says what the tests below check: no body takes an unknown property,
    except a partner's native format, whose adapter names every field it takes."""
    opened = {
        key
        for key, (schema, _) in write_operations(spec).items()
        if schema.get("additionalProperties") is not False
    }
    assert opened == {("POST", "/v1/integrations/{adapter}/reports")}


def _names_only(response, name: str) -> None:
    problem = response.get_json()
    assert response.status_code == 422, problem
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in problem["errors"]] == [name], problem["errors"]
    assert problem["errors"][0]["detail"] == "Unknown field."


@pytest.mark.parametrize(
    "operation",
    [
        ("POST", "/v1/reports"),
        ("POST", "/v1/reports/batch"),
        ("POST", "/v1/integrations/{adapter}/reports"),
        ("POST", "/v1/webhooks/endpoints"),
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("POST", "/v1/triage/reports/{report_id}/claim"),
        ("POST", "/v1/triage/reports/{report_id}/transitions"),
        ("POST", "/v1/triage/reports/{report_id}/notes"),
        ("POST", "/v1/triage/reports/{report_id}/referrals"),
        ("PATCH", "/v1/triage/reports/{report_id}/referrals/{referral_id}"),
        ("POST", "/v1/integrations/shelter_network/outcomes"),
        ("POST", "/v1/shelters"),
        ("PATCH", "/v1/shelters/{shelter_id}"),
        ("POST", "/v1/admin/content"),
        ("PATCH", "/v1/admin/content/{item_id}"),
    ],
    ids=lambda op: f"{op[0]} {op[1]}",
)
def test_a_server_owned_property_is_refused_and_changes_nothing(client, db, spec, world, operation):
    schema, answers = write_operations(spec)[operation]
    write = writes(world)[operation]()
    _refuses_each(client, db, operation[0], write, answers, documented=set(schema["properties"]))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_adapter_refuses_server_owned_properties(client, db, spec, partner, adapter):
    """A native format's own fields are the adapter's (Airbnb's `created_at` is when its
    case was opened): every other server-owned property is refused."""
    _, answers = write_operations(spec)[("POST", "/v1/integrations/{adapter}/reports")]
    write = Write(partner.headers, f"/v1/integrations/{adapter}/reports", sample(adapter), 201)
    _refuses_each(client, db, "POST", write, answers)


def _refuses_each(
    client, db, method: str, write: Write, answers: set[str], documented: set[str] = frozenset()
) -> None:
    """Each server-owned or answer property that the body's schema does not document (nor the
    valid body hold), added alone, is a 422 naming it that stores nothing; the body without
    it is then accepted."""
    tried = sorted((set(SERVER_OWNED) | answers) - documented - set(write.body))
    assert tried
    before = snapshot(db)
    for name in tried:
        value = SERVER_OWNED.get(name, "server-owned")
        body = {**write.body, name: value}
        _names_only(client.open(write.url, method=method, json=body, headers=write.headers), name)
        assert snapshot(db) == before, (write.url, name)
    # The case can fail: the same request without the extra property is accepted.
    accepted = client.open(write.url, method=method, json=write.body, headers=write.headers)
    assert accepted.status_code == write.succeeds, accepted.get_json()


def test_a_batch_refuses_server_owned_properties_in_each_report(client, db, partner, spec):
    tried = sorted(
        (set(SERVER_OWNED) | properties(spec, "ReportReceipt")) - properties(spec, "Report")
    )
    before = snapshot(db)
    reports = [
        stay_report(partner_reference=f"B-{i}", **{n: SERVER_OWNED.get(n, "x")})
        for i, n in enumerate(tried)
    ]
    answer = client.post("/v1/reports/batch", json={"reports": reports}, headers=partner.headers)
    assert answer.status_code == 200
    for name, result in zip(tried, answer.get_json()["results"], strict=True):
        assert result["status"] == 422, (name, result)
        assert [e["field"] for e in result["problem"]["errors"]] == [name]
    assert snapshot(db) == before


# -- what a partner sees of a report operators worked on ------------------------------------

NOTE = "Note interne: la mère a peur du logeur."
COMMENT = "Commentaire interne de passage en revue."
CLOSING = "Commentaire interne de clôture."
REFERRAL_NOTE = "Deux places réservées par téléphone."
OPERATOR_NAME = "Opératrice Mystère"
SHELTER_NAME = "Foyer Les Hirondelles"
CONTACT = {"name": "Nina Témoin", "phone": "0611223344"}


@pytest.fixture
def worked(app, db, client, partner, make_staff, post_report):
    """A report its partner sent, then claimed, noted, reviewed, referred and closed; a
    partner endpoint subscribed to every event, with the deliveries fanned out."""
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/p", "events": list(PARTNER_EVENT_TYPES)},
        headers=partner.headers,
    )
    assert endpoint.status_code == 201
    operator, admin = make_staff("operator", OPERATOR_NAME), make_staff("admin")
    body = stay_report(
        partner_reference="WORKED-1",
        reporter={"role": "host", "contact_consent": True, "contact": CONTACT},
    )
    receipt = post_report(partner, body)
    assert receipt.status_code == 201
    rid = receipt.get_json()["id"]
    assert claim(client, operator, rid).status_code == 200
    noted = client.post(
        f"/v1/triage/reports/{rid}/notes", json={"body": NOTE}, headers=operator.headers
    )
    assert noted.status_code == 201
    assert move(client, operator, rid, "in_review", comment=COMMENT).status_code == 200
    network = create_network(app, "http://127.0.0.1:9/intake", name="Réseau Mystère")
    target = network_shelter(client, admin, network, name=SHELTER_NAME)
    referral = refer(client, operator, rid, target["id"], note=REFERRAL_NOTE)
    assert send_outcome(client, network, referral["id"], "accepted").status_code == 200
    closed = move(
        client, operator, rid, "closed", closure_reason="victims_protected", comment=CLOSING
    )
    assert closed.status_code == 200, closed.get_json()
    with db.unit() as session:
        dispatch.fan_out(session=session, is_sqlite=db.is_sqlite)
    secrets = [
        NOTE,
        COMMENT,
        CLOSING,
        REFERRAL_NOTE,
        OPERATOR_NAME,
        SHELTER_NAME,
        CONTACT["name"],
        CONTACT["phone"],
        operator["id"],
        admin["id"],
        target["id"],
        referral["id"],
        network["id"],
        "victims_protected",
        "claim",
        *(set(INTERNAL_STATUSES) - set(COARSE_STATUSES)),
    ]
    return {"id": rid, "receipt": receipt.get_json(), "secrets": secrets}


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if re.search(re.escape(s), text, re.IGNORECASE)]


def test_partner_answers_carry_only_the_partner_fields(client, partner, spec, worked):
    rid, secrets = worked["id"], worked["secrets"]
    report_keys = properties(spec, "PartnerReport")
    links = properties(spec, "ReportLinks")
    one = client.get(f"/v1/reports/{rid}", headers=partner.headers)
    listed = client.get("/v1/reports", headers=partner.headers)
    filtered = client.get("/v1/reports?status=closed", headers=partner.headers)
    for answer in (one, listed, filtered):
        assert answer.status_code == 200
        assert _leaks(answer.get_data(as_text=True), secrets) == []
        for item in answer.get_json() if isinstance(answer.get_json(), list) else [one.get_json()]:
            assert set(item) == report_keys
            assert set(item["links"]) == links
    assert one.get_json()["status"] == "closed"
    assert [r["id"] for r in listed.get_json()] == [rid]
    assert set(worked["receipt"]) == properties(spec, "ReportReceipt")


def test_receipts_carry_only_the_receipt_fields(client, partner, spec, worked):
    batch = client.post(
        "/v1/reports/batch",
        json={
            "reports": [
                stay_report(partner_reference="B-1"),
                stay_report(partner_reference="WORKED-1"),
            ]
        },
        headers=partner.headers,
    )
    assert batch.status_code == 200
    assert _leaks(batch.get_data(as_text=True), worked["secrets"]) == []
    stored, duplicate = batch.get_json()["results"]
    assert set(stored) == {"index", "status", "id", "priority"}
    assert set(duplicate) == {"index", "status", "problem"}
    assert set(stored) | set(duplicate) <= properties(spec, "BatchItemResult")
    # The duplicate names the partner's own report, and nothing about its handling.
    assert duplicate["problem"]["existing_report_id"] == worked["id"]


def test_webhooks_to_the_partner_carry_only_the_documented_data(db, partner, worked):
    documented = _documented_event_fields()
    with db.unit(write=False) as session:
        sent = session.execute(
            select(OutboxEvent.type, OutboxEvent.data)
            .join(WebhookDelivery, WebhookDelivery.event_id == OutboxEvent.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookEndpoint.partner_id == partner["pk"])
            .order_by(OutboxEvent.id)
        ).all()
    assert [(t, d["status"]) for t, d in sent] == [
        ("report.received", "received"),
        ("report.status_changed", "in_review"),
        ("report.status_changed", "actioned"),
        ("report.status_changed", "closed"),
    ]
    for event_type, data in sent:
        assert set(data) == documented[event_type], event_type
        assert _leaks(json.dumps(data, ensure_ascii=False), worked["secrets"]) == []


def _documented_event_fields() -> dict[str, set[str]]:
    """docs/webhooks.md's table: event type -> the fields of its `data`."""
    guide = (ROOT / "docs" / "webhooks.md").read_text("utf-8")
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|[^|]*\|[^|]*\| (.*) \|$", guide, flags=re.M)
    return {
        event: set(re.findall(r"`([a-z_]+)`", re.sub(r"\(.*?\)", "", data))) for event, data in rows
    }

"""OWASP API6:2023, unrestricted access to sensitive business flows: one partner cannot flood
MIPROF's triage queue, nor make Vigie hammer one third party.

The flows: reports reaching the queue (single, batch, native adapters, the embeddable form) and
webhook endpoints (each event is sent to every endpoint). Whether a quota answers 429 with the
right headers, per key and per scope, and the endpoint cap itself, are API4's
(test_api4_resource_consumption.py); here is what the queue and the third party see.
"""

from __future__ import annotations

import pytest

from embed_support import form_partner, receipt, submit
from payloads import stay_report

QUOTA = 5
QUEUE = "/v1/triage/queue?limit=50"
ENDPOINTS = "/v1/webhooks/endpoints"


@pytest.fixture
def limited(make_app, app):
    """Report writes limited to QUOTA a minute per key, the form to 3 per address; its
    connections are closed after the test (PostgreSQL's are counted)."""
    made = make_app(ratelimit_report_writes_per_minute=QUOTA, form_submissions_per_minute=3)
    yield made
    made.extensions["vigie"].db.dispose()


@pytest.fixture
def api(limited):
    return limited.test_client()


@pytest.fixture
def queue(api, make_staff):
    """The ids of the reports an operator's queue shows."""
    operator = make_staff("operator", "Opératrice file")

    def read() -> set[str]:
        answer = api.get(QUEUE, headers=operator.headers)
        assert answer.status_code == 200
        assert answer.headers.get("Link") is None  # all of it on one page
        return {item["id"] for item in answer.get_json()["items"]}

    return read


def _post(api, actor, ref: str, **headers: str):
    body = stay_report(partner_reference=ref)
    return api.post("/v1/reports", json=body, headers={**actor.headers, **headers})


def _batch(api, actor, *refs: str):
    body = {"reports": [stay_report(partner_reference=ref) for ref in refs]}
    return api.post("/v1/reports/batch", json=body, headers=actor.headers)


# -- the triage queue --------------------------------------------------------------------------


def test_a_flooding_partner_puts_only_its_quota_in_the_queue(api, partner, make_partner, queue):
    answers = [_post(api, partner, f"FLOOD-{n}") for n in range(3 * QUOTA)]
    statuses = [a.status_code for a in answers]
    assert statuses == [201] * QUOTA + [429] * (2 * QUOTA)
    accepted = {a.get_json()["id"] for a in answers[:QUOTA]}
    assert queue() == accepted
    # Another partner's report still reaches the queue while the first is held back.
    other = make_partner("Autre plateforme")
    theirs = _post(api, other, "OTHER-1")
    assert theirs.status_code == 201
    assert queue() == accepted | {theirs.get_json()["id"]}
    assert _post(api, partner, "FLOOD-late").status_code == 429


def test_a_batch_counts_each_report_and_is_refused_whole_past_the_quota(api, partner, queue):
    first = _batch(api, partner, "B-1", "B-2", "B-3")
    assert first.status_code == 200
    accepted = {item["id"] for item in first.get_json()["results"]}
    assert len(accepted) == 3
    over = _batch(api, partner, "B-4", "B-5", "B-6")  # 3 + 3 > 5: none of them is stored
    assert over.status_code == 429
    assert queue() == accepted
    # A refused request counts too (as in any fixed window): the minute is spent.
    assert _post(api, partner, "B-single").status_code == 429
    assert queue() == accepted


def test_the_same_report_sent_again_stays_one_report_in_the_queue(api, partner, queue):
    first = _post(api, partner, "SAME-1")
    assert first.status_code == 201
    report_id = first.get_json()["id"]
    again = _post(api, partner, "SAME-1")
    assert again.status_code == 409
    assert again.get_json()["existing_report_id"] == report_id
    in_batch = _batch(api, partner, "SAME-1", "SAME-1")
    assert in_batch.status_code == 200
    assert [item["status"] for item in in_batch.get_json()["results"]] == [409, 409]
    assert queue() == {report_id}


def test_retries_under_one_idempotency_key_are_one_report(api, partner, queue):
    answers = [_post(api, partner, "IDEM-1", **{"Idempotency-Key": "k-1"}) for _ in range(3)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert queue() == {answers[0].get_json()["id"]}


def test_the_form_puts_at_most_its_quota_per_address_in_the_queue(api, limited, db, queue):
    form_partner(db)
    answers = [submit(api, "gites-de-france") for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    accepted = {receipt(a.get_data(as_text=True)) for a in answers[:3]}
    assert queue() == accepted
    elsewhere = limited.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert submit(elsewhere, "gites-de-france").status_code == 201
    assert len(queue()) == 4


# -- one third-party URL, many endpoints -------------------------------------------------------

HOOK = "http://127.0.0.1:9/hook"


def _register(api, actor, url: str = HOOK, events=("report.received",)):
    body = {"url": url, "events": list(events)}
    return api.post(ENDPOINTS, json=body, headers=actor.headers)


@pytest.mark.parametrize(
    "again", [HOOK, "HTTP://127.0.0.1:9/hook", "http://127.0.0.1:9/hook#fragment"]
)
def test_a_partner_registers_a_url_once(api, partner, again):
    """Each event goes to every endpoint: one URL registered 150 times was 150 requests to
    that third party per event. Now the same URL, however spelled, is 409."""
    first = _register(api, partner)
    assert first.status_code == 201
    twice = _register(api, partner, again, events=("webhook.test",))
    assert twice.status_code == 409, twice.get_json()
    problem = twice.get_json()
    assert problem["type"] == "/problems/conflict"
    assert problem["existing_endpoint_id"] == first.get_json()["id"]
    assert "subscribe it to more event types" in problem["detail"]
    listed = api.get(ENDPOINTS, headers=partner.headers).get_json()
    assert [e["id"] for e in listed] == [first.get_json()["id"]]


def test_the_default_https_port_is_the_same_url(api, partner, monkeypatch):
    from vigie.webhooks import outbound

    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["127.0.0.1"])
    assert _register(api, partner, "https://hooks.partner.example/x").status_code == 201
    again = _register(api, partner, "https://HOOKS.partner.example:443/x")
    assert again.status_code == 409
    assert _register(api, partner, "https://hooks.partner.example:8443/x").status_code == 201


def test_changing_an_endpoint_to_a_url_already_registered_is_409(api, partner):
    first = _register(api, partner).get_json()
    second = _register(api, partner, HOOK + "-2").get_json()
    moved = api.patch(f"{ENDPOINTS}/{second['id']}", json={"url": HOOK}, headers=partner.headers)
    assert moved.status_code == 409
    assert moved.get_json()["existing_endpoint_id"] == first["id"]
    kept = api.get(f"{ENDPOINTS}/{second['id']}", headers=partner.headers).get_json()
    assert kept["url"] == HOOK + "-2"
    # its own URL again is no change, not a conflict
    same = api.patch(f"{ENDPOINTS}/{first['id']}", json={"url": HOOK}, headers=partner.headers)
    assert same.status_code == 200


def test_other_partners_and_a_deleted_endpoint_do_not_hold_a_url(api, partner, make_partner):
    """The rule is per partner (each partner's own receiver may sit behind one gateway), and
    a deleted endpoint frees its URL."""
    other = make_partner("Autre plateforme")
    first = _register(api, partner).get_json()
    assert _register(api, other).status_code == 201
    gone = api.delete(f"{ENDPOINTS}/{first['id']}", headers=partner.headers)
    assert gone.status_code == 204
    assert _register(api, partner).status_code == 201


def test_the_409_for_a_url_already_registered_is_documented(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    for path, method in ((ENDPOINTS, "post"), (ENDPOINTS + "/{endpoint_id}", "patch")):
        examples = paths[path][method]["responses"]["409"]["content"]["application/problem+json"]
        assert "url_already_registered" in examples["examples"], (method, path)

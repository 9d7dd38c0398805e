"""Idempotency-Key on POST /v1/reports (IETF httpapi idempotency-key draft)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from payloads import stay_report
from vigie import clock
from vigie.idempotency import service as idem
from vigie.idempotency.models import IdempotencyKey
from vigie.outbox.models import OutboxEvent
from vigie.reports import service as reports_service
from vigie.reports.models import Report

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def _count(db, model):
    with db.unit(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def _post(client, actor, body, key=KEY, path="/v1/reports"):
    return client.post(path, json=body, headers={**actor.headers, "Idempotency-Key": key})


def test_same_key_and_body_replays_the_first_response(client, partner, db):
    first = _post(client, partner, stay_report())
    again = _post(client, partner, stay_report())
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(db, Report) == 1
    assert _count(db, OutboxEvent) == 1


def test_key_may_be_sent_as_a_quoted_structured_field_and_body_order_does_not_matter(
    client, partner, db
):
    body = stay_report()
    first = _post(client, partner, body, key=f'"{KEY}"')
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = client.post(
        "/v1/reports",
        data=reordered,
        content_type="application/json",
        headers={**partner.headers, "Idempotency-Key": KEY},
    )
    assert again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _count(db, Report) == 1


def test_same_key_with_another_body_is_422_and_stores_nothing(client, partner, db):
    _post(client, partner, stay_report())
    other = _post(client, partner, stay_report(partner_reference="OTHER-1"))
    assert other.status_code == 422
    problem = other.get_json()
    assert problem["type"] == "/problems/idempotency-key-reused"
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert _count(db, Report) == 1


def test_same_key_on_another_endpoint_is_422(client, partner):
    _post(client, partner, stay_report())
    batch = _post(client, partner, {"reports": [stay_report()]}, path="/v1/reports/batch")
    assert batch.status_code == 422


def test_keys_are_scoped_to_the_partner(client, make_partner, db):
    first, second = make_partner("A"), make_partner("B")
    a = _post(client, first, stay_report())
    b = _post(client, second, stay_report())
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert a.get_json()["id"] != b.get_json()["id"]
    assert _count(db, Report) == 2


def test_a_rejected_request_frees_its_key(client, partner, db):
    bad = _post(client, partner, stay_report(context="space"))
    assert bad.status_code == 422
    good = _post(client, partner, stay_report())
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers
    assert _count(db, IdempotencyKey) == 1


def test_a_server_error_frees_its_key(client, partner, db, monkeypatch):
    original = reports_service.create
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return original(**kwargs)

    monkeypatch.setattr(reports_service, "create", flaky)
    assert _post(client, partner, stay_report()).status_code == 500
    retry = _post(client, partner, stay_report())
    assert retry.status_code == 201
    assert _count(db, Report) == 1


def test_malformed_key_is_400_naming_the_header(client, partner, db):
    response = _post(client, partner, stay_report(), key="x" * 256)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count(db, Report) == 0


def test_a_request_while_the_first_is_in_flight_is_409(app, partner, db, monkeypatch):
    """Two real threads: the first holds the key inside the service, the second arrives."""
    inside, release = threading.Event(), threading.Event()
    original = reports_service.create

    def slow(**kwargs):
        inside.set()
        assert release.wait(10)
        return original(**kwargs)

    monkeypatch.setattr(reports_service, "create", slow)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_post, app.test_client(), partner, stay_report())
        assert inside.wait(10)
        second = _post(app.test_client(), partner, stay_report())
        release.set()
        first_response = first.result(10)
    assert second.status_code == 409
    assert second.get_json()["type"] == "/problems/idempotency-key-in-use"
    assert second.headers["Retry-After"] == "1"
    assert first_response.status_code == 201
    replay = _post(app.test_client(), partner, stay_report())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _count(db, Report) == 1


def test_concurrent_retries_store_exactly_one_report(app, partner, db):
    def send(_):
        return _post(app.test_client(), partner, stay_report())

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(16)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.get_json()["id"] for r in created}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in created) == 1
    assert _count(db, Report) == 1
    assert _count(db, OutboxEvent) == 1


def test_a_claim_whose_process_died_is_taken_over_after_its_lease(app, client, partner, db):
    body = stay_report()
    with db.unit() as session:  # a request that claimed the key, then its process died
        idem.begin(
            session=session,
            partner_id=partner["pk"],
            key=KEY,
            fingerprint=idem.fingerprint(
                method="POST", path="/v1/reports", body=json.dumps(body).encode()
            ),
            ttl=timedelta(hours=24),
            lease=timedelta(seconds=60),
        )
    assert _post(client, partner, body).status_code == 409
    clock.travel(61)
    taken_over = _post(client, partner, body)
    assert taken_over.status_code == 201
    assert _post(client, partner, body).headers["Idempotent-Replayed"] == "true"


def test_keys_are_kept_24_hours_then_purged_by_the_worker_job(app, client, partner, db):
    from vigie import worker

    job = next(j for j in worker.PERIODIC_JOBS if j.name == "idempotency-purge")
    module, _, name = job.target.partition(":")
    purge = getattr(__import__(module, fromlist=[name]), name)
    runtime = app.extensions["vigie"]

    first = _post(client, partner, stay_report())
    clock.travel(23 * 3600)
    assert purge(runtime) == 0
    assert _post(client, partner, stay_report()).headers["Idempotent-Replayed"] == "true"
    clock.travel(3600 + 1)
    assert purge(runtime) == 1
    assert _count(db, IdempotencyKey) == 0
    # The key is free again: a new request with it runs (its reference now collides).
    again = _post(client, partner, stay_report())
    assert again.status_code == 409
    assert again.get_json()["existing_report_id"] == first.get_json()["id"]


def test_an_expired_key_not_yet_purged_is_free(client, partner):
    _post(client, partner, stay_report())
    clock.travel(24 * 3600 + 1)
    other = _post(client, partner, stay_report(partner_reference="NEW-2"))
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers


def test_batch_is_idempotent_too(client, partner, db):
    body = {"reports": [stay_report(), stay_report(partner_reference="B-2")]}
    first = _post(client, partner, body, path="/v1/reports/batch")
    again = _post(client, partner, body, path="/v1/reports/batch")
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert [r["status"] for r in again.get_json()["results"]] == [201, 201]
    assert _count(db, Report) == 2


@pytest.mark.parametrize("key", ["", "with space", "é"])
def test_invalid_key_characters_are_400(client, partner, key):
    response = client.post(
        "/v1/reports",
        json=stay_report(),
        headers={**partner.headers, "Idempotency-Key": key},
    )
    assert response.status_code == 400

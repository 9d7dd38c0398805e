"""Reliability with real processes: `vigie worker` subprocesses and real HTTP receivers.

Every test here starts at least one worker process (marked `slow`). The two-worker and
crash tests use PostgreSQL's SKIP LOCKED when the suite runs on PostgreSQL; on SQLite
the same scenarios run with one worker process at a time.
"""

from __future__ import annotations

import itertools
import os
import signal
import time

import pytest
from sqlalchemy import func, select

from vigie import clock
from vigie.outbox import service as outbox
from vigie.outbox.models import OutboxEvent
from vigie.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookDispatch
from vigie.worker import PeriodicJob, build_scheduler
from webhook_receiver import (
    RUNS,
    count_run,
    stop_worker,
    wait_until,
)

pytestmark = pytest.mark.slow

ON_POSTGRES = os.environ.get("VIGIE_TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture
def config(app):
    return app.extensions["vigie.config"]


def _endpoint(client, actor, receiver, events=("webhook.test", "report.received")):
    response = client.post(
        "/v1/webhooks/endpoints",
        json={"url": receiver.url, "events": list(events)},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.json
    receiver.secrets.append(response.json["secret"])
    return response.json


def _emit(db, partner, count, event_type="report.received"):
    """Write `count` events the way the API does (one transaction), return their ids."""
    ids = []
    with db.unit() as session:
        for n in range(count):
            event = outbox.emit(
                session=session, event_type=event_type, partner_id=partner["pk"], data={"n": n}
            )
            ids.append(event.public_id)
    return set(ids)


def _deliveries(client, actor, endpoint):
    return client.get(
        f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=actor.headers
    ).json


def _delivered(db):
    """How many deliveries the workers have recorded as delivered."""
    with db.unit(write=False) as session:
        return session.scalar(select(func.count()).where(WebhookDelivery.status == "delivered"))


def _dispatched(db, event_ids):
    """Whether a worker has fanned all these events out (to whatever endpoints want them)."""
    with db.unit(write=False) as session:
        done = session.scalar(
            select(func.count())
            .select_from(WebhookDispatch)
            .join(OutboxEvent, OutboxEvent.id == WebhookDispatch.event_id)
            .where(OutboxEvent.public_id.in_(event_ids))
        )
    return done == len(event_ids)


def test_every_event_arrives_signed_and_sigterm_exits_cleanly(
    app, client, db, partner, post_report, config, receivers, workers
):
    receiver = receivers()
    _endpoint(client, partner, receiver)
    reports = {post_report(partner, body=None).json["id"]}
    expected = _emit(db, partner, 30)
    worker = workers(config)
    with db.unit() as session:
        expected |= set(session.scalars(select(OutboxEvent.public_id)))
    receiver.wait_ids(expected)
    assert len(expected) == 31
    assert all(d.verified_by == [0] for d in receiver.deliveries)
    assert {d.payload["data"].get("report_id") for d in receiver.deliveries} >= reports
    assert stop_worker(worker) == 0


def test_both_signatures_verify_during_a_rotation(client, db, partner, config, receivers, workers):
    receiver = receivers()
    endpoint = _endpoint(client, partner, receiver)
    rotated = client.post(
        f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=partner.headers
    )
    assert rotated.status_code == 200
    assert rotated.json["secret"] != endpoint["secret"]
    assert rotated.json["secret_rotation_ends_at"] is not None
    receiver.secrets.append(rotated.json["secret"])
    during = _emit(db, partner, 3)
    worker = workers(config, VIGIE_WEBHOOK_SECRET_OVERLAP_HOURS="24")
    receiver.wait_ids(during)
    assert all(d.verified_by == [0, 1] for d in receiver.deliveries)
    assert all(len(d.headers["webhook-signature"].split(" ")) == 2 for d in receiver.deliveries)
    stop_worker(worker)

    clock.travel(24 * 3600 + 1)  # the API's view of the overlap's end
    assert (
        client.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=partner.headers).json[
            "secret_rotation_ends_at"
        ]
        is None
    )


def test_after_the_overlap_only_the_new_secret_signs(
    make_app, db, partner, config, receivers, workers
):
    client = make_app(webhook_secret_overlap_hours=0.0001).test_client()  # 0.36 s
    receiver = receivers()
    endpoint = _endpoint(client, partner, receiver)
    rotated = client.post(
        f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=partner.headers
    ).json
    receiver.secrets.append(rotated["secret"])
    url = f"/v1/webhooks/endpoints/{endpoint['id']}"
    wait_until(  # the overlap is over: the old secret no longer signs
        lambda: client.get(url, headers=partner.headers).json["secret_rotation_ends_at"] is None,
        timeout=10,
        waiting_for="the end of the secret overlap",
    )
    after = _emit(db, partner, 2)
    worker = workers(config)
    receiver.wait_ids(after)
    assert all(d.verified_by == [1] for d in receiver.deliveries)
    stop_worker(worker)


def test_500_three_times_then_200_is_delivered_on_the_fourth_attempt(
    client, db, partner, config, receivers, workers
):
    receiver = receivers(behaviour=lambda wid, n, total: (500, {}) if n <= 3 else (204, {}))
    endpoint = _endpoint(client, partner, receiver)
    (event,) = _emit(db, partner, 1)
    worker = workers(config)
    receiver.wait_for(lambda: receiver.ids()[event] == 4)
    wait_until(
        lambda: _deliveries(client, partner, endpoint)[0]["status"] == "delivered", timeout=10
    )
    stop_worker(worker)
    delivery = _deliveries(client, partner, endpoint)[0]
    assert delivery["attempt_count"] == 4
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 204]
    assert all(a["duration_ms"] >= 0 for a in delivery["attempts"])
    assert all(d.verified_by == [0] for d in receiver.deliveries)
    assert len(receiver.deliveries) == 4


def test_retry_after_is_honoured(client, db, partner, config, receivers, workers):
    receiver = receivers(
        behaviour=lambda wid, n, total: (503, {"Retry-After": "2"}) if n == 1 else (200, {})
    )
    _endpoint(client, partner, receiver)
    (event,) = _emit(db, partner, 1)
    worker = workers(config)  # the schedule alone would retry after 0.2 s
    receiver.wait_for(lambda: receiver.ids()[event] == 2, timeout=15)
    stop_worker(worker)
    first, second = receiver.deliveries
    assert second.at - first.at >= 1.9


def test_410_disables_the_endpoint_at_once(client, db, partner, config, receivers, workers):
    receiver = receivers(behaviour=lambda wid, n, total: (410, {}))
    endpoint = _endpoint(client, partner, receiver)
    events = _emit(db, partner, 1)
    worker = workers(config)
    receiver.wait_ids(events)
    url = f"/v1/webhooks/endpoints/{endpoint['id']}"
    wait_until(lambda: not client.get(url, headers=partner.headers).json["enabled"], timeout=10)
    more = _emit(db, partner, 3)
    # the worker keeps running and routes them: nothing more reaches the endpoint
    wait_until(lambda: _dispatched(db, more), timeout=10, waiting_for="the fan-out")
    stop_worker(worker)
    assert len(receiver.deliveries) == 1
    state = client.get(url, headers=partner.headers).json
    assert state["disabled_reason"] == "gone"
    assert not more & set(receiver.ids())
    assert _deliveries(client, partner, endpoint)[-1]["status"] == "failed"


def test_sigterm_finishes_the_delivery_in_flight(client, db, partner, config, receivers, workers):
    receiver = receivers(delay=1.5)
    endpoint = _endpoint(client, partner, receiver)
    events = _emit(db, partner, 1)
    worker = workers(config)
    receiver.wait_ids(events)  # the request is now in flight, the receiver is slow
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    delivery = _deliveries(client, partner, endpoint)[0]
    assert delivery["status"] == "delivered"
    assert delivery["attempt_count"] == 1
    with db.unit() as session:
        assert session.scalar(select(WebhookDelivery.locked_by)) is None


@pytest.mark.parametrize("workers_count", [2 if ON_POSTGRES else 1])
def test_many_events_are_each_delivered_exactly_once(
    client, db, partner, config, receivers, workers, workers_count
):
    total = 2000 if ON_POSTGRES else 400
    receiver = receivers()
    _endpoint(client, partner, receiver)
    env = {"VIGIE_WEBHOOK_LEASE_SECONDS": "60", "VIGIE_LOG_LEVEL": "INFO"}
    started = [workers(config, **env) for _ in range(workers_count)]
    for worker in started:  # all workers up before the burst, so that all take part
        worker.wait_logged("worker started")
    expected = _emit(db, partner, total)
    receiver.wait_ids(expected, timeout=90)
    wait_until(lambda: _delivered(db) == total, timeout=30, waiting_for="every attempt recorded")
    for worker in started:
        assert stop_worker(worker) == 0
    counts = receiver.ids()
    assert set(counts) == expected
    assert max(counts.values()) == 1, "an event was delivered twice"
    with db.unit() as session:
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == total
        assert (
            session.scalar(select(func.count()).where(WebhookDelivery.status == "delivered"))
            == total
        )
        senders = session.scalar(select(func.count(func.distinct(WebhookAttempt.worker))))
    assert senders == workers_count


def test_a_killed_worker_loses_nothing(client, db, partner, config, receivers, workers):
    receiver = receivers(delay=0.4)
    _endpoint(client, partner, receiver)
    expected = _emit(db, partner, 60)
    env = {"VIGIE_WEBHOOK_LEASE_SECONDS": "2", "VIGIE_WORKER_DELIVERY_THREADS": "8"}
    first = workers(config, **env)
    receiver.wait_for(lambda: len(receiver.deliveries) >= 10)
    first.send_signal(signal.SIGKILL)  # deliveries are in flight: the receiver is slow
    first.wait()
    receiver.settle()  # what the dead worker had already sent is all recorded now
    in_flight_at_kill = set(receiver.ids())
    killed_at = time.monotonic()
    second = workers(config, **env)
    receiver.wait_ids(expected, timeout=60)
    stop_worker(second)
    counts = receiver.ids()
    assert set(counts) == expected  # every event at least once, no new ids
    duplicates = {i for i, n in counts.items() if n > 1}
    assert duplicates, "requests in flight at the kill are sent again"
    assert duplicates <= in_flight_at_kill
    resent = [d for d in receiver.deliveries if d.webhook_id in duplicates and d.at > killed_at]
    assert resent
    assert all(d.verified_by == [0] for d in resent)
    with db.unit() as session:
        assert session.scalar(
            select(func.count()).where(WebhookDelivery.status == "delivered")
        ) == len(expected)


def test_periodic_jobs_run_once_per_period_across_workers(app):
    runtime = app.extensions["vigie"]
    job = PeriodicJob(name="test.count", function=count_run, seconds=1)
    RUNS.clear()
    schedulers = [build_scheduler(runtime, owner, (job,)) for owner in ("worker-a", "worker-b")]
    started = time.monotonic()
    for scheduler in schedulers:
        scheduler.start()
    wait_until(lambda: len(RUNS) >= 3, timeout=15, waiting_for="three runs")
    for scheduler in schedulers:
        scheduler.shutdown(wait=True)
    elapsed = time.monotonic() - started
    # once per period between them: unlocked, two workers would have run it twice as often
    assert 3 <= len(RUNS) <= 1 + elapsed / 0.85
    assert all(b - a >= 0.85 for a, b in itertools.pairwise(RUNS))


def test_the_api_process_never_loads_the_scheduler(config):
    """gunicorn imports the app factory; APScheduler must only ever load in `vigie worker`."""
    import subprocess
    import sys

    from webhook_receiver import worker_env

    code = (
        "import sys; from vigie.app import create_app; create_app(); "
        "print(sorted(m for m in sys.modules if m.startswith(('apscheduler', 'vigie.worker'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_env(config),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
    assert "VIGIE_WEBHOOK_ALLOW_PRIVATE is on" in out.stderr  # the startup warning


def test_a_send_slower_than_the_lease_is_not_sent_twice(
    client, db, partner, config, receivers, workers
):
    """The worker renews the leases of what it is still sending, and never re-claims its own."""
    receiver = receivers(delay=2.5)
    _endpoint(client, partner, receiver)
    events = _emit(db, partner, 3)
    env = {"VIGIE_WEBHOOK_LEASE_SECONDS": "1"}
    started = [workers(config, **env), workers(config, **env)]
    receiver.wait_ids(events)
    # until every send (2.5 s, longer than the lease) is recorded, another claim could resend it
    wait_until(lambda: _delivered(db) == len(events), timeout=30, waiting_for="the slow sends")
    for worker in started:
        assert stop_worker(worker) == 0
    assert receiver.ids() == dict.fromkeys(events, 1)

"""Delivery in-process: one `Deliverer.cycle()` at a time against a real HTTP receiver."""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from payloads import stay_report
from vigie import clock
from vigie.cli import main
from vigie.outbox import service as outbox
from vigie.webhooks import outbound
from vigie.webhooks.delivery import Deliverer
from vigie.webhooks.models import WebhookDelivery
from webhook_receiver import Receiver, start_receiver


@pytest.fixture
def receiver():
    r = Receiver()
    server, _ = start_receiver(r)
    yield r
    server.shutdown()
    server.server_close()


def _endpoint(client, actor, receiver, events=("report.received",), url=None):
    response = client.post(
        "/v1/webhooks/endpoints",
        json={"url": url or receiver.url, "events": list(events)},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.json
    receiver.secrets.append(response.json["secret"])
    return response.json


def _drain(deliverer: Deliverer, until=lambda: False, timeout: float = 10.0) -> None:
    """Run cycles until nothing is in flight or pending-and-due, or `until()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        work = deliverer.cycle()
        if until():
            break
        if not work and not deliverer.inflight:
            break
        time.sleep(0.01)
    deliverer.shutdown()


@pytest.fixture
def deliverer(app):
    made = []

    def make(runtime=None):
        d = Deliverer(runtime or app.extensions["vigie"])
        made.append(d)
        return d

    return make


def test_report_received_arrives_signed_thin_and_with_the_event_id(
    client, partner, post_report, receiver, deliverer, db
):
    _endpoint(client, partner, receiver)
    report = post_report(partner).json
    _drain(deliverer())
    assert len(receiver.deliveries) == 1
    got = receiver.deliveries[0]
    assert got.verified_by == [0]
    assert got.payload["type"] == "report.received"
    assert got.payload["data"]["report_id"] == report["id"]
    assert got.payload["data"]["status"] == "received"
    assert got.payload["timestamp"].endswith("Z")
    assert set(got.payload) == {"type", "timestamp", "data"}
    assert "description" not in got.body.decode()
    assert "listing" not in got.body.decode()
    with db.unit() as session:
        event_id = session.scalar(select(outbox.OutboxEvent.public_id))
    assert got.webhook_id == event_id
    assert got.headers["content-type"] == "application/json"


def test_a_partner_receives_only_its_own_report_events_and_content_broadcasts(
    app, client, make_partner, post_report, receiver, deliverer, db
):
    mine, other = make_partner("Mine"), make_partner("Other")
    _endpoint(client, mine, receiver, events=("report.received", "content.published"))
    other_receiver = Receiver()
    server, _ = start_receiver(other_receiver)
    try:
        _endpoint(client, other, other_receiver, events=("report.received", "content.published"))
        post_report(mine)
        with db.unit() as session:
            outbox.emit(
                session=session, event_type="content.published", data={"content_id": "cnt_1"}
            )
            outbox.emit(session=session, event_type="triage.overdue", data={"report_id": "rep_x"})
        _drain(deliverer())
        assert sorted(json.loads(d.body)["type"] for d in receiver.deliveries) == [
            "content.published",
            "report.received",
        ]
        assert [json.loads(d.body)["type"] for d in other_receiver.deliveries] == [
            "content.published"
        ]
    finally:
        server.shutdown()
        server.server_close()


def test_miprof_endpoints_from_the_cli_receive_escalations(app, db, receiver, deliverer):
    runner = app.test_cli_runner()
    result = runner.invoke(
        main,
        [
            "webhooks",
            "create",
            "--url",
            receiver.url,
            "--events",
            "triage.overdue,referral.created",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    receiver.secrets.append(created["secret"])
    # Dates as the API writes them: ISO 8601 with a T and an offset, not str(datetime).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", created["created_at"])
    with db.unit() as session:
        outbox.emit(session=session, event_type="triage.overdue", data={"report_id": "rep_x"})
        outbox.emit(session=session, event_type="content.retired", data={"content_id": "cnt_1"})
    _drain(deliverer())
    assert [d.payload["type"] for d in receiver.deliveries] == ["triage.overdue"]
    assert receiver.deliveries[0].verified_by == [0]
    listing = json.loads(runner.invoke(main, ["webhooks", "list", "--json"]).output)
    assert listing["deliveries"] == {"delivered": 1}
    assert "whsec_" not in json.dumps(listing)


def test_test_event_goes_to_that_endpoint_only(client, partner, receiver, deliverer):
    first = _endpoint(client, partner, receiver, events=("webhook.test",))
    other_path = receiver.url.replace("/hook", "/other")  # one endpoint per URL (409 otherwise)
    _endpoint(client, partner, receiver, events=("webhook.test",), url=other_path)
    queued = client.post(f"/v1/webhooks/endpoints/{first['id']}/test", headers=partner.headers)
    assert queued.status_code == 202
    _drain(deliverer())
    assert [d.webhook_id for d in receiver.deliveries] == [queued.json["event_id"]]
    assert receiver.deliveries[0].verified_by == [0]


def test_failures_retry_then_fail_and_a_partner_can_requeue(
    make_app, make_partner, receiver, deliverer
):
    app = make_app(webhook_retry_schedule=[0, 0, 0], webhook_retry_jitter=0)
    client = app.test_client()
    partner = make_partner()
    receiver.behaviour = lambda wid, n, total: (500, {}) if total <= 3 else (200, {})
    endpoint = _endpoint(client, partner, receiver, events=("webhook.test",))
    client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    assert len(receiver.deliveries) == 3  # the schedule has three attempts
    listing = client.get(
        f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries?status=failed",
        headers=partner.headers,
    ).json
    assert len(listing) == 1
    failed = listing[0]
    assert failed["attempt_count"] == 3
    assert [a["status_code"] for a in failed["attempts"]] == [500, 500, 500]
    assert failed["attempts"][0]["error"] == "http_500"
    assert failed["attempts"][0]["response_body"] == "ok"

    retried = client.post(f"/v1/webhooks/deliveries/{failed['id']}/retry", headers=partner.headers)
    assert retried.status_code == 202
    assert retried.json["status"] == "pending"
    again = client.post(f"/v1/webhooks/deliveries/{failed['id']}/retry", headers=partner.headers)
    assert again.status_code == 409
    _drain(deliverer(app.extensions["vigie"]))
    delivered = client.get(
        f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=partner.headers
    ).json[0]
    assert delivered["status"] == "delivered"
    assert delivered["attempt_count"] == 4
    assert len({d.webhook_id for d in receiver.deliveries}) == 1


def test_another_partner_cannot_retry_my_delivery(client, make_partner, db):
    owner, other = make_partner("Owner"), make_partner("Other")
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/", "events": ["webhook.test"]},
        headers=owner.headers,
    ).json
    client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=owner.headers)
    from vigie.webhooks import dispatch

    with db.unit() as session:
        dispatch.fan_out(session=session, is_sqlite=db.is_sqlite)
    with db.unit() as session:
        delivery = session.scalar(select(WebhookDelivery.public_id))
    response = client.post(f"/v1/webhooks/deliveries/{delivery}/retry", headers=other.headers)
    assert response.status_code == 404


def test_redirects_are_failures_and_are_not_followed(client, partner, receiver, deliverer):
    receiver.behaviour = lambda wid, n, total: (302, {"Location": "http://127.0.0.1:1/"})
    endpoint = _endpoint(client, partner, receiver, events=("webhook.test",))
    client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    d = deliverer()
    d.cycle()
    _drain(d, until=lambda: len(receiver.deliveries) >= 1, timeout=5)
    attempts = client.get(
        f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=partner.headers
    ).json[0]["attempts"]
    assert attempts[0]["status_code"] == 302
    assert attempts[0]["error"] == "http_302"


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owner_told(
    make_app, make_partner, receiver, deliverer, db
):
    app = make_app(webhook_retry_schedule=[0], webhook_retry_jitter=0)
    client = app.test_client()
    partner = make_partner()
    receiver.behaviour = lambda wid, n, total: (500, {})
    endpoint = _endpoint(client, partner, receiver, events=("webhook.test",))
    url = f"/v1/webhooks/endpoints/{endpoint['id']}"
    client.post(f"{url}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    assert client.get(url, headers=partner.headers).json["enabled"] is True
    clock.travel(5 * 24 * 3600 + 60)
    client.post(f"{url}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    state = client.get(url, headers=partner.headers).json
    assert state["enabled"] is False
    assert state["disabled_reason"] == "failing"
    with db.unit() as session:
        told = session.scalars(
            select(outbox.OutboxEvent).where(outbox.OutboxEvent.type == "webhook.endpoint_disabled")
        ).all()
    assert [(e.data["endpoint_id"], e.partner_id) for e in told] == [
        (endpoint["id"], partner["pk"])
    ]


def test_a_success_clears_the_failure_history(make_app, make_partner, receiver, deliverer):
    app = make_app(webhook_retry_schedule=[0], webhook_retry_jitter=0)
    client = app.test_client()
    partner = make_partner()
    receiver.behaviour = lambda wid, n, total: (500, {}) if total == 1 else (200, {})
    endpoint = _endpoint(client, partner, receiver, events=("webhook.test",))
    url = f"/v1/webhooks/endpoints/{endpoint['id']}"
    client.post(f"{url}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    clock.travel(3 * 24 * 3600)
    client.post(f"{url}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    clock.travel(3 * 24 * 3600)
    receiver.behaviour = lambda wid, n, total: (500, {})
    client.post(f"{url}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    assert client.get(url, headers=partner.headers).json["enabled"] is True


# -- SSRF at send and pinning ------------------------------------------------------


def test_dns_rebinding_to_loopback_is_refused_at_send(
    make_app, make_partner, receiver, monkeypatch, deliverer
):
    app = make_app(webhook_allow_private=False, webhook_allowed_ports=[receiver_port(receiver)])
    client = app.test_client()
    partner = make_partner()
    answers = {"hooks.partner.example": ["93.184.215.14"]}
    monkeypatch.setattr(outbound, "resolve", lambda host, port: answers[host])
    port = receiver_port(receiver)
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": f"http://hooks.partner.example:{port}/hook", "events": ["webhook.test"]},
        headers=partner.headers,
    )
    # http is allowed outside production; the address rules are what this test is about
    assert endpoint.status_code == 201, endpoint.json
    answers["hooks.partner.example"] = ["127.0.0.1"]  # the name now points inside
    client.post(f"/v1/webhooks/endpoints/{endpoint.json['id']}/test", headers=partner.headers)
    _drain(deliverer(app.extensions["vigie"]))
    assert receiver.deliveries == []
    attempt = client.get(
        f"/v1/webhooks/endpoints/{endpoint.json['id']}/deliveries", headers=partner.headers
    ).json[0]["attempts"][0]
    assert attempt["error"] == "unsafe_url:address"
    assert attempt["status_code"] is None


def receiver_port(receiver: Receiver) -> int:
    return int(receiver.url.rsplit(":", 1)[1].split("/")[0])


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    client, partner, receiver, monkeypatch, deliverer
):
    calls = []

    def resolve(host, port):
        calls.append(host)
        return ["127.0.0.1"] if len(calls) <= 2 else ["192.0.2.1"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    port = receiver_port(receiver)
    endpoint = _endpoint(
        client, partner, receiver, events=("webhook.test",), url=f"http://pinned.example:{port}/h"
    )
    client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    _drain(deliverer())
    # resolved once at registration and once at send, then no fresh lookup by the HTTP stack
    assert calls == ["pinned.example", "pinned.example"]
    assert len(receiver.deliveries) == 1
    assert receiver.deliveries[0].headers["host"] == f"pinned.example:{port}"
    assert receiver.deliveries[0].path == "/h"


def test_deleting_an_endpoint_fails_what_was_waiting_for_it(
    client, partner, post_report, receiver, deliverer, db
):
    receiver.behaviour = lambda _id, _nth, _total: (500, {})
    endpoint = _endpoint(client, partner, receiver)
    post_report(partner)
    _drain(deliverer(), until=lambda: len(receiver.deliveries) >= 1)
    assert len(receiver.deliveries) == 1  # the first attempt failed; a retry is scheduled

    deleted = client.delete(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=partner.headers)
    assert deleted.status_code == 204
    with db.unit() as session:
        delivery = session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.last_error) == ("failed", "endpoint_deleted")
    clock.travel(3600)  # past every retry delay: nothing is sent to a deleted endpoint
    _drain(deliverer())
    assert len(receiver.deliveries) == 1


def test_an_event_that_commits_late_is_still_delivered(
    client, partner, receiver, deliverer, db, monkeypatch
):
    from vigie.webhooks import delivery

    monkeypatch.setattr(delivery, "FULL_SCAN_SECONDS", 0.0)  # every round is a wide scan
    clock.travel(-30 * 60)
    _endpoint(client, partner, receiver)  # registered half an hour ago
    clock.reset()
    running = deliverer()
    running.cycle()  # a first, complete scan finds nothing
    clock.travel(-20 * 60)  # an event stamped 20 minutes ago (outside the recent window)...
    with db.unit() as session:  # ...whose transaction commits only now
        outbox.emit(
            session=session,
            event_type="report.received",
            partner_id=partner["pk"],
            data={"report_id": "rep_late"},
        )
    clock.reset()
    time.sleep(0.3)  # past the worker's poll interval
    _drain(running, until=lambda: len(receiver.deliveries) >= 1)
    assert [d.payload["data"]["report_id"] for d in receiver.deliveries] == ["rep_late"]


def test_an_endpoint_receives_only_what_happens_after_it_is_registered(
    client, partner, post_report, receiver, deliverer
):
    post_report(partner)  # before the endpoint exists, and not yet fanned out
    clock.travel(1)
    _endpoint(client, partner, receiver)
    later = post_report(partner, stay_report(partner_reference="LATER")).json
    _drain(deliverer())
    assert [d.payload["data"]["report_id"] for d in receiver.deliveries] == [later["id"]]


def test_a_delivery_stores_the_success_status_it_got(client, partner, receiver, deliverer, db):
    receiver.behaviour = lambda wid, n, total: (204 if total == 1 else 200, {})
    for n in range(2):
        url = f"{receiver.url}-{n}"  # one endpoint per URL
        endpoint = _endpoint(client, partner, receiver, events=("webhook.test",), url=url)
        client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    _drain(deliverer(), until=lambda: len(receiver.deliveries) >= 2)
    with db.unit() as session:
        stored = session.execute(select(WebhookDelivery.status, WebhookDelivery.last_status_code))
        assert sorted(stored) == [("delivered", 200), ("delivered", 204)]

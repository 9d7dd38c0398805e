"""Referrals forwarded to a shelter network's intake, through the webhook worker.

One `Deliverer.cycle()` at a time (the worker's own engine) against a real HTTP receiver on
loopback that verifies signatures as a network would; `tests/triage/test_network_outcomes.py`
covers the network's answers.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import exists, select, update

from network_support import cli, create_network, network_shelter, refer
from payloads import stay_report
from triage_support import report, shelter
from vigie.outbox.models import OutboxEvent
from vigie.webhooks.delivery import Deliverer
from vigie.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatch,
    WebhookEndpoint,
)
from webhook_receiver import payload_types

PARTNER_NAME = "Gîtes de France Sud"
REPORTER = {"name": "Jeanne Témoin", "phone": "+33 6 12 34 56 78", "email": "jeanne@example.org"}
DESCRIPTION = "Cinq jeunes femmes logées au 3 rue des Lilas, une semble mineure."
NOTE = "Appel du 115 : deux places ce soir"
CONTACT = "Permanence MIPROF, +33 1 40 00 00 00"


@pytest.fixture
def deliverer(app, make_app):
    """A delivery engine on the test database; `fast=True` for a retry schedule in 50 ms steps."""
    made = []

    def make(**config):
        runtime = make_app(**config).extensions["vigie"] if config else app.extensions["vigie"]
        engine = Deliverer(runtime)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.shutdown()


def settled(db) -> bool:
    """Every event fanned out, and nothing pending for an enabled endpoint."""
    with db.unit(write=False) as session:
        undispatched = session.scalar(
            select(OutboxEvent.id).where(
                ~exists().where(WebhookDispatch.event_id == OutboxEvent.id)
            )
        )
        pending = session.scalar(
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookEndpoint.enabled.is_(True))
        )
    return undispatched is None and pending is None


def drain(engine: Deliverer, until=None, timeout: float = 10.0) -> None:
    """Run cycles until `until()` holds (default: settled and nothing in flight)."""
    done = until or (lambda: not engine.inflight and settled(engine.db))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        engine.cycle()
        if done():
            return
        time.sleep(0.01)
    raise AssertionError("the deliveries did not settle")


def _sensitive_report(post_report, partner) -> str:
    body = stay_report(
        partner_reference="GDF-SUD-2026-0042",
        description=DESCRIPTION,
        persons={"count": 5, "minors": 1, "in_immediate_danger": True},
        reporter={"role": "host", "contact_consent": True, "contact": REPORTER},
    )
    response = post_report(partner, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_referral_reaches_the_network_signed_with_only_what_a_shelter_needs(
    app, client, db, make_partner, make_staff, post_report, receivers, deliverer
):
    intake, miprof, partner_hooks = receivers(), receivers(), receivers()
    network = create_network(app, intake.url)
    intake.secrets.append(network["signing_secret"])
    # MIPROF's own endpoint and the partner's: neither may receive what goes to the network.
    miprof_endpoint = cli(
        app, "webhooks", "create", "--url", miprof.url, "--events", "referral.created", "--json"
    )
    miprof.secrets.append(miprof_endpoint["secret"])
    partner = make_partner(PARTNER_NAME)
    hooks = client.post(
        "/v1/webhooks/endpoints",
        json={"url": partner_hooks.url, "events": ["report.received", "report.status_changed"]},
        headers=partner.headers,
    )
    assert hooks.status_code == 201
    admin, op = make_staff("admin"), make_staff("operator", name="Camille Opératrice")
    target = network_shelter(client, admin, network)
    assert target["integration"] == "shelter_network"
    assert target["network"] == network["id"]
    rid = _sensitive_report(post_report, partner)
    referral = refer(client, op, rid, target["id"], note=NOTE, languages=["ro", "fr"])
    assert referral["forwarded_to"] == {"id": network["id"], "name": "SIAO Bouches-du-Rhône"}
    assert referral["languages"] == ["ro", "fr"]

    drain(deliverer(public_base_url="https://vigie.example", shelter_network_contact=CONTACT))

    (got,) = intake.deliveries
    assert got.verified_by == [0]
    assert got.payload["type"] == "referral.created"
    assert got.payload["data"] == {
        "referral_id": referral["id"],
        "shelter": {"id": target["id"], "name": "CHRS Les Tilleuls"},
        "priority": "P1",
        "department": "13",
        "people": {"count": 5, "minors": 1, "minors_involved": True},
        "languages": ["ro", "fr"],
        "reply": {
            "outcomes_url": "https://vigie.example/v1/integrations/shelter_network/outcomes",
            "referral_id": referral["id"],
            "contact": CONTACT,
        },
    }
    raw = got.body.decode("utf-8")
    for forbidden in (
        PARTNER_NAME,
        partner["id"],
        "GDF-SUD-2026-0042",
        *REPORTER.values(),
        DESCRIPTION,
        "Lilas",
        NOTE,
        "Camille",
        op["id"],
        rid,
        "listing-48213377",
        "HMX4QK2PZB",
        "host",
    ):
        assert forbidden not in raw, forbidden
    with db.unit() as session:
        routed = session.scalar(
            select(OutboxEvent.public_id).where(OutboxEvent.shelter_network_id.is_not(None))
        )
    assert got.webhook_id == routed
    # MIPROF hears of the referral through its own event; the partner only of its status.
    assert [d.payload["data"]["referral_id"] for d in miprof.deliveries] == [referral["id"]]
    assert miprof.deliveries[0].webhook_id != routed
    assert sorted(payload_types(partner_hooks)) == [
        "report.received",
        "report.status_changed",
        "report.status_changed",
    ]
    assert all("referral" not in d.body.decode() for d in partner_hooks.deliveries)


def test_links_are_relative_without_a_public_base_url_and_the_contact_is_null_without_one(
    app, client, make_partner, make_staff, post_report, receivers, deliverer
):
    intake = receivers()
    network = create_network(app, intake.url)
    intake.secrets.append(network["signing_secret"])
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    referral = refer(client, op, report(post_report, make_partner(), "a"), target["id"])
    drain(deliverer())
    (got,) = intake.deliveries
    assert got.payload["data"]["reply"] == {
        "outcomes_url": "/v1/integrations/shelter_network/outcomes",
        "referral_id": referral["id"],
        "contact": None,
    }
    assert got.payload["data"]["languages"] == []
    assert got.payload["data"]["people"] == {"count": 5, "minors": None, "minors_involved": False}


def test_a_failing_intake_is_retried_with_the_same_id_and_every_attempt_recorded(
    app, client, db, partner, make_staff, post_report, receivers, deliverer
):
    intake = receivers(behaviour=lambda _id, nth, _all: (500 if nth == 1 else 200, {}))
    network = create_network(app, intake.url)
    intake.secrets.append(network["signing_secret"])
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    refer(client, op, report(post_report, partner, "a"), target["id"])
    engine = deliverer(webhook_retry_schedule=[0, 0.05, 0.05], webhook_retry_jitter=0.0)
    drain(engine, until=lambda: len(intake.deliveries) == 2)
    drain(engine)
    first, second = intake.deliveries
    assert first.webhook_id == second.webhook_id
    assert first.verified_by == second.verified_by == [0]
    with db.unit() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        attempts = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert delivery.status == "delivered"
    assert delivery.attempts == 2
    assert [(a.status_code, a.error) for a in attempts] == [(500, "http_500"), (200, None)]
    listing = cli(app, "shelter-network", "list", "--json")
    assert listing[0]["deliveries"] == {"delivered": 1}
    assert listing[0]["intake"]["enabled"] is True


def test_an_intake_refusing_the_payload_fails_at_once_and_is_not_retried(
    app, client, db, partner, make_staff, post_report, receivers, deliverer
):
    intake = receivers(behaviour=lambda *_: (422, {}))
    network = create_network(app, intake.url)
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    refer(client, op, report(post_report, partner, "a"), target["id"])
    drain(deliverer(webhook_retry_schedule=[0, 0.05, 0.05], webhook_retry_jitter=0.0))
    assert len(intake.deliveries) == 1
    with db.unit() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        attempt = session.scalars(select(WebhookAttempt)).one()
    assert (delivery.status, delivery.last_error, delivery.attempts) == (
        "failed",
        "refused_by_intake",
        1,
    )
    assert (attempt.status_code, attempt.error) == (422, "refused_by_intake")


def test_a_disabled_intake_keeps_new_referrals_until_it_is_enabled_again(
    app, client, db, partner, make_staff, post_report, receivers, deliverer
):
    gone = receivers(behaviour=lambda *_: (410, {}))
    network = create_network(app, gone.url)
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    refer(client, op, report(post_report, partner, "a"), target["id"])
    engine = deliverer()
    drain(engine)
    (state,) = cli(app, "shelter-network", "list", "--json")
    assert state["intake"]["enabled"] is False
    assert state["intake"]["disabled_reason"] == "gone"
    # While it is disabled, a new referral waits for it instead of being dropped.
    second = refer(client, op, report(post_report, partner, "b"), target["id"])
    drain(engine)
    assert len(gone.deliveries) == 1
    with db.unit() as session:
        assert session.scalar(
            select(WebhookDelivery.status).where(WebhookDelivery.status == "pending")
        )
    moved = receivers()
    moved.secrets.append(network["signing_secret"])
    cli(app, "shelter-network", "set-intake", network["id"], "--url", moved.url, "--json")
    drain(engine)
    assert [d.payload["data"]["referral_id"] for d in moved.deliveries] == [second["id"]]
    assert moved.deliveries[0].verified_by == [0]


def test_referrals_to_other_shelters_are_not_forwarded(
    app, client, db, partner, make_staff, post_report, receivers, deliverer
):
    intake = receivers()
    create_network(app, intake.url)
    admin, op = make_staff("admin"), make_staff()
    plain = shelter(client, admin, integration="siao13")
    refer(client, op, report(post_report, partner, "a"), plain["id"])
    drain(deliverer())
    assert intake.deliveries == []
    with db.unit() as session:
        assert (
            session.scalar(
                select(OutboxEvent.id).where(OutboxEvent.shelter_network_id.is_not(None))
            )
            is None
        )


def test_a_revoked_network_receives_nothing_more(
    app, client, db, partner, make_staff, post_report, receivers, deliverer
):
    intake = receivers()
    network = create_network(app, intake.url)
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    cli(app, "shelter-network", "revoke", network["id"], "--json")
    referral = refer(client, op, report(post_report, partner, "a"), target["id"])
    assert referral["forwarded_to"] is None
    drain(deliverer())
    assert intake.deliveries == []


def test_a_missing_or_failing_forwarder_is_a_failed_attempt_retried_not_a_lost_referral(
    app, client, db, partner, make_staff, post_report, receivers, deliverer, monkeypatch
):
    intake = receivers()
    network = create_network(app, intake.url)
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    refer(client, op, report(post_report, partner, "a"), target["id"])
    with db.unit() as session:
        session.execute(update(WebhookEndpoint).values(forwarder="not_installed"))
    engine = deliverer(webhook_retry_schedule=[0, 60, 60], webhook_retry_jitter=0.0)

    def attempts():
        with db.unit(write=False) as session:
            return session.scalars(select(WebhookAttempt.error).order_by(WebhookAttempt.id)).all()

    drain(engine, until=lambda: len(attempts()) == 1)
    assert attempts() == ["forwarder_missing"]
    assert intake.deliveries == []

    class Broken:
        def payload(self, referral, context):
            raise KeyError("persons")

    monkeypatch.setattr(Deliverer, "_forwarder", lambda self, name: Broken())
    with db.unit() as session:
        session.execute(update(WebhookDelivery).values(next_attempt_at=WebhookDelivery.created_at))
    drain(engine, until=lambda: len(attempts()) == 2)
    assert attempts() == ["forwarder_missing", "forwarder_error"]
    with db.unit(write=False) as session:
        assert session.scalar(select(WebhookDelivery.status)) == "pending"
    assert intake.deliveries == []


@pytest.mark.slow
def test_a_real_worker_process_finds_the_forwarder_and_delivers(
    app, client, partner, make_staff, post_report, receivers
):
    from webhook_receiver import start_worker, stop_worker

    intake = receivers()
    network = create_network(app, intake.url)
    intake.secrets.append(network["signing_secret"])
    admin, op = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network)
    referral = refer(client, op, report(post_report, partner, "a"), target["id"])
    worker = start_worker(app.extensions["vigie.config"])
    try:
        intake.wait_for(lambda: len(intake.deliveries) == 1)
    finally:
        assert stop_worker(worker) == 0
    (got,) = intake.deliveries
    assert got.verified_by == [0]
    assert got.payload["data"]["referral_id"] == referral["id"]

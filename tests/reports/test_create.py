"""POST /v1/reports: what a partner gets back for a valid report."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from payloads import flight_report, stay_report

# Copies of the canonical samples in shared/samples, so the suite runs without shared/.
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures"


def test_valid_stay_report_gets_a_receipt(partner, post_report, client):
    response = post_report(partner, stay_report())
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"].startswith("rep_")
    assert body["status"] == "received"
    assert body["priority"] == "P4"
    assert body["links"]["self"] == f"/v1/reports/{body['id']}"
    assert response.headers["Location"] == body["links"]["self"]
    assert body["guidance"] is None
    assert body["received_at"].endswith("+00:00")

    read = client.get(body["links"]["self"], headers=partner.headers).get_json()
    assert read["status"] == "received"
    assert read["partner_reference"] == "ABNB-TS-2026-0001842"


def test_department_is_derived_from_the_postcode(partner, post_report, app):
    body = stay_report()
    body["location"] = {"postcode": "20000"}
    response = post_report(partner, body)
    assert response.status_code == 201
    from sqlalchemy import select

    from vigie.reports.models import Report

    with app.extensions["vigie"].db.unit() as session:
        stored = session.scalar(select(Report.department))
    assert stored == "2A"


def test_the_shared_samples_are_accepted(partner, post_report):
    samples = sorted(SAMPLES.glob("report-*.json"))
    assert len(samples) == 2
    for sample in samples:
        response = post_report(partner, json.loads(sample.read_text("utf-8")))
        assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("indicators", "exploitation", "minors", "danger", "expected"),
    [
        (["frequent_visitors"], ["unknown"], None, True, "P1"),
        (["minor_unaccompanied"], ["sexual"], None, False, "P1"),
        (["minor_with_unrelated_adult", "restricted_movement"], ["labour"], None, False, "P1"),
        (["frequent_visitors"], ["labour"], 2, False, "P2"),
        (["minor_unaccompanied"], ["labour"], 0, False, "P2"),
        (["restricted_movement", "debt_bondage"], ["labour"], 0, False, "P2"),
        (["restricted_movement"], ["labour"], None, False, "P3"),
        (["frequent_visitors", "isolation", "wages_withheld"], ["labour"], None, False, "P3"),
        (["frequent_visitors", "isolation"], ["sexual"], 0, False, "P4"),
    ],
)
def test_priority_follows_the_rules_not_the_caller(
    partner, post_report, indicators, exploitation, minors, danger, expected
):
    body = stay_report(
        indicators=indicators,
        suspected_exploitation=exploitation,
        persons={"count": 3, "minors": minors, "in_immediate_danger": danger},
    )
    response = post_report(partner, body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["priority"] == expected


def test_priority_sent_by_the_caller_is_refused(partner, post_report):
    response = post_report(partner, stay_report(priority="P1"))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["priority"]


def test_immediate_danger_returns_emergency_numbers_in_french(partner, post_report):
    body = stay_report(persons={"count": 2, "minors": 1, "in_immediate_danger": True})
    guidance = post_report(partner, body).get_json()["guidance"]
    numbers = [n["number"] for n in guidance["numbers"]]
    assert {"17", "112", "119"} <= set(numbers)
    assert "appelez le 17 ou le 112 maintenant" in guidance["message"]
    assert "119" in guidance["message"]


def test_guidance_follows_the_report_language(partner, post_report):
    body = flight_report(
        language="en-GB", persons={"count": 1, "minors": None, "in_immediate_danger": True}
    )
    guidance = post_report(partner, body).get_json()["guidance"]
    assert guidance["language"] == "en"
    assert guidance["message"].startswith("People are in immediate danger: call 17 or 112 now")
    assert "119" not in [n["number"] for n in guidance["numbers"]]


def test_flight_report_with_a_minor_and_a_strong_sign_is_p1(partner, post_report):
    body = flight_report(persons={"count": 1, "minors": 1, "in_immediate_danger": False})
    response = post_report(partner, body)
    assert response.status_code == 201
    assert response.get_json()["priority"] == "P1"
    assert "119" in [n["number"] for n in response.get_json()["guidance"]["numbers"]]


def test_same_partner_reference_twice_is_a_conflict_naming_the_first(partner, post_report):
    first = post_report(partner, stay_report()).get_json()
    second = post_report(partner, stay_report())
    assert second.status_code == 409
    assert second.mimetype == "application/problem+json"
    assert second.get_json()["existing_report_id"] == first["id"]


def test_partner_references_are_per_partner(make_partner, post_report):
    a, b = make_partner("A"), make_partner("B")
    assert post_report(a, stay_report()).status_code == 201
    assert post_report(b, stay_report()).status_code == 201


def test_contact_needs_consent(partner, post_report):
    body = stay_report(reporter={"role": "host", "contact": {"name": "M. Durand"}})
    response = post_report(partner, body)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "reporter.contact"

    body = copy.deepcopy(body)
    body["reporter"]["contact_consent"] = True
    assert post_report(partner, body).status_code == 201


def test_report_received_event_is_written_with_the_report(partner, post_report, db):
    from sqlalchemy import select

    from vigie.outbox.models import OutboxEvent

    report_id = post_report(partner, stay_report()).get_json()["id"]
    with db.unit() as session:
        events = session.scalars(select(OutboxEvent)).all()
    assert [(e.type, e.data["report_id"], e.partner_id) for e in events] == [
        ("report.received", report_id, partner["pk"])
    ]
    assert "description" not in json.dumps(events[0].data)

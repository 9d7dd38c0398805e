"""Bad input: a clear problem document naming the field, and nothing stored."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from payloads import flight_report, stay_report
from vigie.reports.models import Report


def _with(path: str, value):
    body = stay_report()
    target = body
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return body


_DELETE = object()
FUTURE = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

CASES = [
    ("unknown field", _with("colour", "blue"), "colour"),
    ("missing required", _with("indicators", _DELETE), "indicators"),
    ("wrong type", _with("persons.count", "five"), "persons.count"),
    (
        "boolean as string",
        _with("persons.in_immediate_danger", "false"),
        "persons.in_immediate_danger",
    ),
    ("out of range", _with("persons.count", 501), "persons.count"),
    ("minors above count", _with("persons.minors", 9), "persons.minors"),
    ("over-long reference", _with("partner_reference", "x" * 129), "partner_reference"),
    ("control character", _with("partner_reference", "ab\ncd"), "partner_reference"),
    ("over-long description", _with("description", "x" * 5001), "description"),
    ("unknown indicator", _with("indicators", ["frequent_visitors", "bad_vibes"]), "indicators[1]"),
    (
        "unknown exploitation",
        _with("suspected_exploitation", ["organ"]),
        "suspected_exploitation[0]",
    ),
    ("repeated codes", _with("indicators", ["isolation", "isolation"]), "indicators"),
    ("no indicators", _with("indicators", []), "indicators"),
    (
        "flight indicator in a stay",
        _with("indicators", ["seated_apart_but_watched"]),
        "indicators[0]",
    ),
    ("future observation", _with("observed_at", FUTURE), "observed_at"),
    ("before 2000", _with("observed_at", "1999-12-31T23:00:00+00:00"), "observed_at"),
    ("no offset", _with("observed_at", "2026-11-20T22:40:00"), "observed_at"),
    ("check_out before check_in", _with("stay.check_out", "2026-11-01"), "stay.check_out"),
    ("guest count zero", _with("stay.guest_count", 0), "stay.guest_count"),
    ("bad postcode", _with("location.postcode", "1300"), "location.postcode"),
    ("postcode of no département", _with("location.postcode", "98000"), "location.postcode"),
    ("département disagrees", _with("location.department", "75"), "location.department"),
    ("unknown département", _with("location.department", "99"), "location.department"),
    ("latitude out of range", _with("location.lat", 91), "location.lat"),
    ("unknown context", _with("context", "cruise"), "context"),
    ("stay without stay block", _with("stay", _DELETE), "stay"),
    ("stay without location", _with("location", _DELETE), "location"),
    ("unknown role", _with("reporter.role", "detective"), "reporter.role"),
    ("bad language tag", _with("language", "french!"), "language"),
    ("flight block in a stay", _with("flight", flight_report()["flight"]), "flight"),
]


@pytest.mark.parametrize(("name", "body", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_report_is_422_naming_the_field(partner, post_report, db, name, body, field):
    response = post_report(partner, body)
    assert response.status_code == 422, name
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert problem["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in problem["errors"]], problem["errors"]
    with db.unit() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_errors_about_items_of_a_list_all_point_at_the_item(partner, post_report):
    # A code of another context and an unknown code: the same kind of mistake, the same form.
    body = _with("indicators", ["seated_apart_but_watched", "bad_vibes"])
    errors = post_report(partner, body).get_json()["errors"]
    assert sorted((e["field"], e["pointer"]) for e in errors) == [
        ("indicators[0]", "#/indicators/0"),
        ("indicators[1]", "#/indicators/1"),
    ]
    by_field = {e["field"]: e["detail"] for e in errors}
    assert (
        by_field["indicators[0]"] == "seated_apart_but_watched applies to flight reports, not stay."
    )


def test_flight_report_needs_iata_codes(partner, post_report):
    body = flight_report()
    body["flight"] = {**body["flight"], "flight_number": "AIRFRANCE1", "origin": "Paris"}
    problem = post_report(partner, body).get_json()
    fields = {e["field"] for e in problem["errors"]}
    assert {"flight.flight_number", "flight.origin"} <= fields


def test_malformed_json_is_400(partner, client):
    response = client.post(
        "/v1/reports",
        data=b'{"context": "stay",',
        headers={**partner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_wrong_content_type_is_415(partner, client):
    response = client.post(
        "/v1/reports",
        data="context=stay",
        headers={**partner.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.get_json()["status"] == 415


def test_body_over_256_kib_is_413(partner, client, db):
    body = stay_report(description="x" * (300 * 1024))
    response = client.post("/v1/reports", json=body, headers=partner.headers)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_unknown_route_is_404_problem(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_wrong_method_is_405_problem(partner, client):
    response = client.delete("/v1/reports", headers=partner.headers)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "POST" in response.headers["Allow"]


def test_internal_error_is_a_problem_without_internals(partner, post_report, monkeypatch):
    from vigie.reports import service

    def explode(**_kwargs):
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(service, "create", explode)
    response = post_report(partner, stay_report())
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text
    assert "Traceback" not in text
    assert response.get_json()["request_id"] == response.headers["X-Request-Id"]


def test_each_nested_error_is_reported(partner, post_report):
    body = copy.deepcopy(stay_report())
    body["persons"]["count"] = 0
    body["stay"]["guest_count"] = -1
    fields = {e["field"] for e in post_report(partner, body).get_json()["errors"]}
    assert {"persons.count", "stay.guest_count"} <= fields


def test_nul_in_a_report_id_is_404_not_500(partner, client):
    # Found by the API fuzz on PostgreSQL, whose text type cannot hold U+0000.
    response = client.get("/v1/reports/rep_%00x", headers=partner.headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_nul_in_report_text_is_422_naming_the_field(partner, post_report, db):
    response = post_report(partner, stay_report(partner_reference="ref\x00"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "partner_reference"
    with db.unit() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0

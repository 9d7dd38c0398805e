"""POST /v1/reports/batch: up to 100 independent reports in one call."""

from __future__ import annotations

from sqlalchemy import func, select

from payloads import flight_report, stay_report
from vigie.outbox.models import OutboxEvent
from vigie.reports.models import Report


def _count(db, model):
    with db.unit(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def _batch(client, actor, reports):
    return client.post("/v1/reports/batch", json={"reports": reports}, headers=actor.headers)


def test_each_item_gets_its_own_result_in_order(client, partner, db):
    danger = stay_report(
        partner_reference="R-2",
        persons={"count": 2, "minors": None, "in_immediate_danger": True},
    )
    bad = stay_report(partner_reference="R-3", stay={"listing_reference": "x"})
    response = _batch(
        client,
        partner,
        [stay_report(partner_reference="R-1"), danger, bad, flight_report(), "not a report"],
    )
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [201, 201, 422, 201, 422]
    assert results[0]["priority"] == "P4"
    assert results[1]["priority"] == "P1"
    assert results[0]["id"].startswith("rep_")
    fields = {e["field"] for e in results[2]["problem"]["errors"]}
    assert {"stay.check_in", "stay.check_out", "stay.guest_count"} <= fields
    assert results[2]["problem"]["status"] == 422
    assert results[4]["problem"]["type"] == "/problems/validation-error"
    assert _count(db, Report) == 3
    assert _count(db, OutboxEvent) == 3

    read = client.get(f"/v1/reports/{results[1]['id']}", headers=partner.headers)
    assert read.get_json()["partner_reference"] == "R-2"


def test_a_duplicate_reference_is_409_naming_the_existing_report(client, partner, post_report):
    existing = post_report(partner, stay_report(partner_reference="DUP")).get_json()["id"]
    response = _batch(
        client,
        partner,
        [
            stay_report(partner_reference="DUP"),
            stay_report(partner_reference="TWIN"),
            stay_report(partner_reference="TWIN"),
        ],
    )
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [409, 201, 409]
    assert results[0]["problem"]["existing_report_id"] == existing
    assert results[2]["problem"]["existing_report_id"] == results[1]["id"]


def test_more_than_100_reports_is_422_for_the_whole_call(client, partner, db):
    items = [stay_report(partner_reference=f"R-{i}") for i in range(101)]
    response = _batch(client, partner, items)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == ["reports"]
    assert _count(db, Report) == 0


def test_exactly_100_reports_are_accepted(client, partner, db):
    items = [stay_report(partner_reference=f"R-{i}") for i in range(100)]
    response = _batch(client, partner, items)
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {201}
    assert _count(db, Report) == 100


def test_an_empty_or_malformed_batch_is_422(client, partner):
    assert _batch(client, partner, []).status_code == 422
    missing = client.post("/v1/reports/batch", json={}, headers=partner.headers)
    assert missing.get_json()["errors"][0]["field"] == "reports"
    extra = client.post(
        "/v1/reports/batch", json={"reports": [stay_report()], "x": 1}, headers=partner.headers
    )
    assert extra.status_code == 422


def test_batch_needs_the_write_scope(client, make_partner):
    reader = make_partner(scopes=("reports:read",))
    assert _batch(client, reader, [stay_report()]).status_code == 403
    assert client.post("/v1/reports/batch", json={"reports": []}).status_code == 401

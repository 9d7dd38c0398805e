"""GET /v1/stats/indicators: figures, groupings, CSV export with small cells hidden."""

from __future__ import annotations

import csv
import io

import pytest

from triage_support import P1, claim, move, report
from vigie import clock


def test_figures_per_priority(client, partner, make_staff, post_report):
    op, sam = make_staff(), make_staff("supervisor")
    fast = report(post_report, partner, "a", **P1)
    slow = report(post_report, partner, "b", **P1)
    report(post_report, partner, "c", as_flight=True)
    clock.travel(10 * 60)
    claim(client, op, fast)
    move(client, op, fast, "in_review")
    clock.travel(20 * 60)
    claim(client, op, slow)
    move(client, op, slow, "closed", closure_reason="no_grounds")
    body = client.get("/v1/stats/indicators", headers=sam.headers).get_json()
    assert body["content_pulls_by_partner"] == []
    (group,) = body["groups"]
    assert group["received"] == 3
    assert group["by_context"] == {"stay": 2, "flight": 1, "other": 0}
    assert group["with_minors"] == 2
    assert group["in_immediate_danger"] == 2
    p1 = group["first_review"]["P1"]
    assert p1["reviewed"] == 2
    assert p1["median_minutes"] == 20.0
    assert p1["p90_minutes"] == 30.0
    assert p1["within_response_time_share"] == 0.5
    assert group["first_review"]["P3"]["not_reviewed"] == 1
    assert group["closures"]["no_grounds"] == 1


def test_grouping_and_period(client, make_partner, make_staff, post_report):
    sam = make_staff("supervisor")
    a, b = make_partner("A"), make_partner("B")
    report(post_report, a, "a1")
    report(post_report, b, "b1", suspected_exploitation=["sexual", "labour"])
    by_partner = client.get("/v1/stats/indicators?group_by=partner", headers=sam.headers).get_json()
    assert sorted((g["label"], g["received"]) for g in by_partner["groups"]) == [
        ("A", 1),
        ("B", 1),
    ]
    by_kind = client.get(
        "/v1/stats/indicators?group_by=exploitation", headers=sam.headers
    ).get_json()
    assert {g["key"]: g["received"] for g in by_kind["groups"]} == {"labour": 1, "sexual": 2}
    month = clock.now().strftime("%Y-%m")
    by_month = client.get("/v1/stats/indicators?group_by=month", headers=sam.headers).get_json()
    assert [g["key"] for g in by_month["groups"]] == [month]
    later = client.get(
        "/v1/stats/indicators",
        query_string={"from": clock.now().replace(year=2099).isoformat()},
        headers=sam.headers,
    )
    assert later.status_code == 422
    assert later.get_json()["errors"][0]["field"] == "from"
    empty = client.get(
        "/v1/stats/indicators",
        query_string={"to": "2001-01-01T00:00:00+00:00"},
        headers=sam.headers,
    ).get_json()
    assert empty["groups"] == []


def test_csv_hides_cells_under_five(client, partner, make_staff, post_report):
    sam = make_staff("supervisor")
    for i in range(6):
        report(post_report, partner, f"r{i}", **(P1 if i == 0 else {}))
    response = client.get(
        "/v1/stats/indicators?group_by=priority", headers={**sam.headers, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    assert rows["P1"]["received"] == "<5"
    assert rows["P1"]["in_immediate_danger"] == "<5"
    assert rows["P4"]["received"] == "5"
    assert rows["P4"]["with_minors"] == "0"
    assert rows["P4"]["P4_median_minutes"] == ""


def test_only_supervisors_and_admins(client, make_staff, partner):
    assert client.get("/v1/stats/indicators", headers=make_staff().headers).status_code == 403
    assert client.get("/v1/stats/indicators", headers=partner.headers).status_code == 403
    assert (
        client.get("/v1/stats/indicators", headers=make_staff("admin").headers).status_code == 200
    )


@pytest.mark.parametrize(
    "query",
    [
        "to=0001-01-01T00:02:00Z",  # 30 days before it is before year 1
        "to=9999-12-31T23:00:00-05:00",  # past year 9999 in UTC
        "from=0001-01-01T00:00:00%2B05:00",  # before year 1 in UTC
    ],
)
def test_dates_out_of_range_are_422_not_500(client, make_staff, query):
    # Found by tests/test_api_fuzz.py: these overflowed Python's datetime (a 500).
    response = client.get(f"/v1/stats/indicators?{query}", headers=make_staff("supervisor").headers)
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == query.split("=")[0]
    assert error["in"] == "query"

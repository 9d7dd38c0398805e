"""GET /v1/stats/indicators: figures, groupings, CSV export with small cells hidden."""

from __future__ import annotations

import csv
import io

import pytest

from triage_support import P1, claim, move, report, shelter
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


def _groups(client, sam, group_by):
    body = client.get(f"/v1/stats/indicators?group_by={group_by}", headers=sam.headers).get_json()
    assert body["group_by"] == group_by
    return {g["key"]: g for g in body["groups"]}


def _csv_rows(client, sam, group_by):
    response = client.get(
        f"/v1/stats/indicators?group_by={group_by}", headers={**sam.headers, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    return {r["group"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


def test_group_by_channel_through_which_tool(app, client, partner, make_staff, post_report, db):
    from payloads import stay_report
    from vigie.reports import service as reports
    from vigie.reports.schemas import ReportSchema

    sam = make_staff("supervisor")
    for i in range(5):
        report(post_report, partner, f"api-{i}")
    batch = {"reports": [stay_report(partner_reference="batch-1")]}
    assert client.post("/v1/reports/batch", json=batch, headers=partner.headers).status_code == 200
    rt = app.extensions["vigie"]
    with db.unit() as session:  # the adapters' and the form's channel, as their views record it
        data = ReportSchema().load(stay_report(partner_reference="adapter-1"))
        reports.create(
            session=session,
            crypto=rt.crypto,
            partner_id=partner["pk"],
            data=data,
            channel="adapter:airbnb",
        )
    groups = _groups(client, sam, "channel")
    assert {k: g["received"] for k, g in groups.items()} == {
        "adapter:airbnb": 1,
        "api": 5,
        "batch": 1,
    }
    rows = _csv_rows(client, sam, "channel")
    assert (rows["api"]["received"], rows["batch"]["received"]) == ("5", "<5")
    assert rows["batch"]["P4_median_minutes"] == ""


def test_group_by_reporter_role_who_spots(client, partner, make_staff, post_report):
    sam = make_staff("supervisor")
    report(post_report, partner, "h1")
    report(post_report, partner, "c1", as_flight=True)
    report(post_report, partner, "n1", reporter={"role": "neighbour", "contact_consent": False})
    groups = _groups(client, sam, "reporter_role")
    assert {k: g["received"] for k, g in groups.items()} == {
        "cabin_crew": 1,
        "host": 1,
        "neighbour": 1,
    }
    assert groups["cabin_crew"]["by_context"]["flight"] == 1


def test_group_by_context_where(client, partner, make_staff, post_report):
    sam = make_staff("supervisor")
    for i in range(6):
        report(post_report, partner, f"s{i}")
    report(post_report, partner, "f1", as_flight=True)
    groups = _groups(client, sam, "context")
    assert {k: g["received"] for k, g in groups.items()} == {"flight": 1, "stay": 6}
    rows = _csv_rows(client, sam, "context")
    assert rows["stay"]["received"] == "6"
    assert rows["stay"]["context_stay"] == "6"
    assert rows["flight"]["received"] == "<5"


def test_referrals_by_target_type_and_outcome_with_refusal_reasons(
    client, partner, make_staff, post_report
):
    sam, op, admin = make_staff("supervisor"), make_staff(), make_staff("admin")
    target = shelter(client, admin, capacity_available=10)
    outcomes = [("declined", "not_eligible")] * 5 + [("no_capacity", None), ("accepted", None)]
    for i, (status, reason) in enumerate(outcomes):
        rid = report(post_report, partner, f"r{i}")
        claim(client, op, rid)
        url = f"/v1/triage/reports/{rid}/referrals"
        created = client.post(
            url,
            json={"target_type": "emergency_shelter", "shelter_id": target["id"]},
            headers=op.headers,
        ).get_json()
        body = {"status": status, **({"reason": reason} if reason else {})}
        assert (
            client.patch(f"{url}/{created['id']}", json=body, headers=op.headers).status_code == 200
        )
    (group,) = client.get("/v1/stats/indicators", headers=sam.headers).get_json()["groups"]
    assert group["referrals"]["emergency_shelter"] == {
        "pending": 0,
        "accepted": 1,
        "declined": 5,
        "no_capacity": 1,
        "completed": 0,
    }
    assert group["referral_refusals"] == {
        "no_capacity": 1,
        "not_eligible": 5,
        "person_declined": 0,
        "person_unreachable": 0,
        "other": 0,
        "unspecified": 0,
    }
    (row,) = _csv_rows(client, sam, "department").values()
    assert row["referrals_emergency_shelter_declined"] == "5"
    assert row["referrals_emergency_shelter_accepted"] == "<5"
    assert row["refused_not_eligible"] == "5"
    assert row["refused_no_capacity"] == "<5"
    assert row["refused_other"] == "0"


def test_group_by_is_documented_with_every_key(client):
    spec = client.get("/openapi.json").get_json()
    (param,) = [
        p
        for p in spec["paths"]["/v1/stats/indicators"]["get"]["parameters"]
        if p.get("name") == "group_by"
    ]
    assert set(param["schema"]["enum"]) == {
        "partner", "department", "exploitation", "priority", "month",
        "channel", "reporter_role", "context",
    }  # fmt: skip

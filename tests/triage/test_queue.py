"""GET /v1/triage/queue: order, filters, pagination, counts, access."""

from __future__ import annotations

from triage_support import P1, P2, P3, claim, move, report
from vigie import clock


def _ids(client, actor, query=""):
    response = client.get(f"/v1/triage/queue{query}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return [row["id"] for row in response.get_json()["items"]]


def test_priority_then_due_time_then_age(client, partner, make_staff, post_report):
    op = make_staff()
    old_p4 = report(post_report, partner, "a")
    clock.travel(60)
    p3 = report(post_report, partner, "b", **P3)
    clock.travel(60)
    new_p4 = report(post_report, partner, "c")
    p2 = report(post_report, partner, "d", **P2)
    p1 = report(post_report, partner, "e", **P1)
    assert _ids(client, op) == [p1, p2, p3, old_p4, new_p4]


def test_closed_reports_leave_the_queue(client, partner, make_staff, post_report):
    op = make_staff()
    gone = report(post_report, partner, "a")
    kept = report(post_report, partner, "b")
    claim(client, op, gone)
    assert move(client, op, gone, "closed", closure_reason="no_grounds").status_code == 200
    body = client.get("/v1/triage/queue", headers=op.headers).get_json()
    assert [row["id"] for row in body["items"]] == [kept]
    assert body["counts"]["open"] == 1


def test_rows_show_what_an_operator_decides_on(client, partner, make_staff, post_report):
    op = make_staff("operator", "Alice")
    first = report(post_report, partner, "a", **P1)
    report(post_report, partner, "b")  # same listing as the first
    claim(client, op, first)
    row = client.get("/v1/triage/queue", headers=op.headers).get_json()["items"][0]
    assert row["id"] == first
    assert row["priority"] == "P1"
    assert row["status"] == "received"
    assert row["context"] == "stay"
    assert row["department"] == "13"
    assert row["indicator_count"] == 2
    assert row["minors_involved"] is True
    assert row["partner"] == {"id": partner["id"], "name": partner["name"]}
    assert row["claim"]["holder"] == {"id": op["id"], "name": "Alice"}
    assert row["related_count"] == 1
    assert row["overdue"] is False


def test_overdue_flag_and_filter(client, partner, make_staff, post_report):
    op = make_staff()
    p1 = report(post_report, partner, "a", **P1)
    p4 = report(post_report, partner, "b")
    clock.travel(16 * 60)  # past the P1 response time (15 min), not the P4 one
    body = client.get("/v1/triage/queue", headers=op.headers).get_json()
    flags = {row["id"]: row["overdue"] for row in body["items"]}
    assert flags == {p1: True, p4: False}
    assert body["counts"]["overdue_by_priority"]["P1"] == 1
    assert _ids(client, op, "?overdue=true") == [p1]
    assert _ids(client, op, "?overdue=false") == [p4]


def test_filters(client, make_partner, make_staff, post_report):
    op = make_staff()
    a, b = make_partner("A"), make_partner("B")
    marseille = report(post_report, a, "m", **P3)
    paris = report(
        post_report,
        b,
        "p",
        location={"country": "FR", "postcode": "75011"},
        suspected_exploitation=["labour"],
    )
    flight = report(post_report, b, "f", as_flight=True)
    claim(client, op, paris)
    move(client, op, paris, "in_review")
    assert _ids(client, op, "?department=13") == [marseille]
    assert _ids(client, op, f"?partner={b['id']}") == [flight, paris]
    assert _ids(client, op, "?partner=prt_unknown") == []
    assert _ids(client, op, "?exploitation=labour") == [paris]
    assert _ids(client, op, "?status=in_review") == [paris]
    assert _ids(client, op, "?priority=P3") == [marseille, flight]


def test_bad_filters_name_the_parameter(client, make_staff):
    op = make_staff()
    response = client.get("/v1/triage/queue?priority=P9", headers=op.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "priority"
    response = client.get("/v1/triage/queue?cursor=bm9wZQ", headers=op.headers)
    assert response.status_code == 400


def test_pages_follow_the_link_header(client, partner, make_staff, post_report):
    op = make_staff()
    created = [report(post_report, partner, f"r{i}") for i in range(5)]
    seen, url = [], "/v1/triage/queue?limit=2"
    while url:
        response = client.get(url, headers=op.headers)
        seen += [row["id"] for row in response.get_json()["items"]]
        link = response.headers.get("Link")
        url = link[link.index("<") + 1 : link.index(">")] if link else None
    assert seen == created


def test_counts_per_status_and_priority(client, partner, make_staff, post_report):
    op = make_staff()
    one = report(post_report, partner, "a", **P1)
    report(post_report, partner, "b")
    report(post_report, partner, "c")
    claim(client, op, one)
    move(client, op, one, "in_review")
    counts = client.get("/v1/triage/queue", headers=op.headers).get_json()["counts"]
    assert counts["by_status"] == {"received": 2, "in_review": 1, "referred": 0}
    assert counts["by_priority"] == {"P1": 1, "P2": 0, "P3": 0, "P4": 2}


def test_partners_and_editors_cannot_see_the_queue(client, partner, make_staff):
    assert client.get("/v1/triage/queue", headers=partner.headers).status_code == 403
    assert client.get("/v1/triage/queue", headers=make_staff("editor").headers).status_code == 403
    assert client.get("/v1/triage/queue").status_code == 401


def test_nul_in_the_partner_filter_is_422_not_500(client, make_staff):
    # Found by the API fuzz on PostgreSQL: a NUL in a WHERE clause was a 500.
    response = client.get("/v1/triage/queue?partner=prt_%00", headers=make_staff().headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "partner"

"""La file d'attente: the API's queue, in French, filtered in the URL, refreshed in place."""

from __future__ import annotations

import re

from payloads import stay_report
from triage_support import P1, P2, P3, report
from vigie import clock

ROW = re.compile(r'<tr class="queue__row[^"]*" data-id="([^"]+)" data-priority="(P\d)"')


def _rows(html):
    return ROW.findall(html)


def _api_order(client, operator, query=""):
    body = client.get(f"/v1/triage/queue{query}", headers=operator.headers).get_json()
    return [(item["id"], item["priority"]) for item in body["items"]]


def test_the_queue_shows_the_open_reports_in_the_api_order(
    client, partner, post_report, make_staff, console_as
):
    p4 = report(post_report, partner, "Q4")
    p2 = report(post_report, partner, "Q2", **P2)
    p1 = report(post_report, partner, "Q1", **P1)
    p3 = report(post_report, partner, "Q3", **P3)
    console = console_as("operator", "Alice")
    html = console.get("/console/queue").get_data(as_text=True)
    shown = _rows(html)
    assert shown == _api_order(client, make_staff("operator"))
    assert [row[0] for row in shown] == [p1, p2, p3, p4]
    assert html.count("<h1") == 1
    assert "<h1>File d&#39;attente</h1>" in html or "<h1>File d'attente</h1>" in html
    assert f'href="/console/reports/{p1}"' in html
    assert '<span class="priority priority--p1">P1</span>' in html
    assert "Séjour" in html
    assert "Exploitation sexuelle" in html  # the form of exploitation, in French
    assert "Reste 14 min" in html
    assert '<th scope="col">Pris en charge par</th>' in html


def test_rows_show_the_claim_holder_the_related_count_and_overdue_time(
    partner, post_report, console_as
):
    first = report(post_report, partner, "R1", **P1)
    report(post_report, partner, "R2")  # same listing as the first: related
    alice = console_as("operator", "Alice")
    clock.travel(20 * 60)
    alice.post(f"/console/reports/{first}/claim")
    html = console_as("operator", "Bob").get("/console/queue").get_data(as_text=True)
    row = html[html.index(f'data-id="{first}"') :].split("</tr>")[0]
    assert "Alice" in row
    assert "jusqu&#39;à" in row or "jusqu'à" in row
    assert "En retard de 5 min" in row
    assert row.rstrip().endswith("<td>1</td>")


def test_filters_are_the_apis_and_stay_in_the_url(
    client, partner, post_report, make_staff, console_as
):
    p1 = report(post_report, partner, "F1", **P1)
    labour = report(post_report, partner, "F2", **P2)
    report(
        post_report,
        partner,
        "F3",
        location={"country": "FR", "postcode": "64200"},
        stay=dict(stay_report()["stay"], listing_reference="other-listing"),
    )
    console = console_as("operator")
    operator = make_staff("operator")
    for query, expected in (
        ("?priority=P1", [p1]),
        ("?exploitation=labour", [labour]),
        ("?department=13&status=received", None),
        (f"?partner={partner['id']}", None),
        ("?overdue=false", None),
    ):
        html = console.get(f"/console/queue{query}").get_data(as_text=True)
        ids = [row[0] for row in _rows(html)]
        assert ids == [i for i, _ in _api_order(client, operator, query)], query
        if expected is not None:
            assert ids == expected
        for name, value in (pair.split("=") for pair in query[1:].split("&")):
            assert f'value="{value}" selected' in html, (query, name)
        rows_url = re.search(r'data-rows-url="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert rows_url.startswith("/console/queue/rows?")
        assert set(rows_url.split("?")[1].split("&")) == set(query[1:].split("&"))
        assert "Effacer les filtres" in html
    clock.travel(16 * 60)
    late = console.get("/console/queue?overdue=true").get_data(as_text=True)
    assert [row[0] for row in _rows(late)] == [p1]


def test_an_invalid_filter_is_said_and_ignored_never_an_error(partner, post_report, console_as):
    report(post_report, partner, "B1", **P1)
    console = console_as("operator")
    for query in ("?priority=P9", "?overdue=maybe", "?cursor=garbage", "?department=" + "9" * 40):
        response = console.get(f"/console/queue{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert 'role="alert"' in html
        assert len(_rows(html)) == 1


def test_the_refresh_fragment_is_the_results_part_with_the_same_filters(
    partner, post_report, console_as
):
    p1 = report(post_report, partner, "G1", **P1)
    report(post_report, partner, "G2")
    console = console_as("operator")
    response = console.get("/console/queue/rows?priority=P1")
    html = response.get_data(as_text=True)
    assert response.headers["X-Vigie-Fragment"] == "queue"
    assert html.lstrip().startswith('<div id="queue-results"')
    assert "<h1" not in html
    assert [row[0] for row in _rows(html)] == [p1]
    assert f'data-p1="{p1}"' in html


def test_the_page_works_without_javascript_through_a_reload_link(console_as):
    html = console_as("operator").get("/console/queue?priority=P2").get_data(as_text=True)
    assert '<a href="/console/queue?priority=P2" id="queue-reload">Actualiser la file</a>' in html
    assert 'aria-live="assertive"' in html
    assert '<script src="/console/static/queue.js" defer></script>' in html


def test_the_script_and_stylesheet_are_served_by_the_app(console_as):
    console = console_as("operator")
    for name, kind in (("queue.js", "javascript"), ("console.css", "css"), ("favicon.svg", "svg")):
        response = console.client.get(f"/console/static/{name}")
        response.close()
        assert response.status_code == 200
        assert kind in response.headers["Content-Type"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]

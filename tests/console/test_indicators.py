"""Indicateurs: the plan's figures for a period, drawn and tabled as the API's export shows them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from console_support import assert_same_origin_only
from triage_support import P1, claim, move, report, shelter
from vigie import clock

BORDEAUX = {"country": "FR", "postcode": "33000", "commune": "Bordeaux"}


def tables(response) -> dict[str, list[list[str]]]:
    """Every table of the page with an id, as rows of cell texts (header row first)."""
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    return {
        table.get("id"): [
            [" ".join(cell.text_content().split()) for cell in row.xpath("th|td")]
            for row in table.xpath(".//tr")
        ]
        for table in tree.xpath("//table[@id]")
    }


def summary(response) -> str:
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    return " ".join(tree.xpath("//p[@class='summary']")[0].text_content().split())


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def cohort(client, partner, make_staff, post_report):
    """Six reports in Marseille (13), two in Bordeaux (33); two reviewed; one referral."""
    op, admin = make_staff("operator", "Olga"), make_staff("admin", "Ada")
    target = shelter(client, admin, capacity_available=5)
    marseille = [report(post_report, partner, f"m{i}") for i in range(6)]
    bordeaux = [report(post_report, partner, f"b{i}", location=BORDEAUX, **P1) for i in range(2)]
    clock.travel(10 * 60)
    for rid in (bordeaux[0], marseille[0]):
        claim(client, op, rid)
        assert move(client, op, rid, "in_review").status_code == 200
    referred = client.post(
        f"/v1/triage/reports/{bordeaux[0]}/referrals",
        json={"target_type": "emergency_shelter", "shelter_id": target["id"]},
        headers=op.headers,
    )
    assert referred.status_code == 201, referred.get_json()
    return {"marseille": marseille, "bordeaux": bordeaux}


def test_a_supervisor_sees_each_chart_with_its_table(console_as, cohort):
    sam = console_as("supervisor", "Sam")
    page = sam.get("/console/indicateurs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<a href="/console/indicateurs" aria-current="page">Indicateurs</a>' in text
    tree = lxml_html.fromstring(text)
    assert [h.text_content() for h in tree.xpath("//h1")] == ["Indicateurs"]
    charts = tree.xpath("//svg")
    assert len(charts) == 4
    for svg in charts:  # one image each, named by its title and described
        assert svg.get("role") == "img"
        title = tree.get_element_by_id(svg.get("aria-labelledby"))
        desc = tree.get_element_by_id(svg.get("aria-describedby"))
        assert title.tag == "title"
        assert title.text_content()
        assert "tableau qui suit" in desc.text_content()
    found = tables(page)
    assert set(found) == {"table-weeks", "table-review", "table-referrals", "table-departments"}
    assert found["table-departments"][1:] == [["13", "6"], ["33", "<5"]]
    review = {row[0]: row for row in found["table-review"][1:]}
    assert review["P1 — danger immédiat"][1:4] == ["15 min", "<5", "—"]  # 1 reviewed: no time
    referrals = {row[0]: row[1:] for row in found["table-referrals"][1:]}
    assert referrals["Hébergement d'urgence (SIAO, 115)"] == ["<5", "0", "0", "0", "0"]
    weeks = [row[1:] for row in found["table-weeks"][1:] if row[1:] != ["0"] * 4]
    assert weeks == [["<5", "0", "0", "6"]]  # the P1s in Bordeaux, the P4s in Marseille
    departments = tree.xpath("//svg[@aria-labelledby='chart-departments-title']")
    drawn = [t.text_content() for t in departments[0].xpath(".//text")]
    assert drawn == ["13", "33", "6", "<5"]  # labels, then each bar's figure (no bar for <5)
    assert len(departments[0].xpath(".//rect[@class='chart__bar chart__bar--s0']")) == 1
    assert_same_origin_only(text, "indicateurs")
    assert "<style" not in text
    assert " style=" not in text
    assert "<script" not in text


def test_the_period_is_whole_paris_days_kept_in_the_url(console_as, partner, post_report):
    # 23:30 UTC on 30 November is 00:30 on 1 December in Paris: the December report.
    clock.travel((datetime(2026, 11, 30, 23, 30, tzinfo=UTC) - clock.now()).total_seconds())
    report(post_report, partner, "late")
    sam = console_as("supervisor", "Sam")
    november = sam.get("/console/indicateurs?from=2026-11-01&to=2026-11-30")
    december = sam.get("/console/indicateurs?from=2026-12-01&to=2026-12-07")
    assert "aucun signalement reçu" in summary(november)
    assert "2026 (heure de Paris) : <5 signalements reçus." in summary(december)
    tree = lxml_html.fromstring(december.get_data(as_text=True))
    assert tree.get_element_by_id("period-from").get("value") == "2026-12-01"
    assert tree.get_element_by_id("period-to").get("value") == "2026-12-07"
    (link,) = tree.xpath("//a[contains(., 'CSV')]")
    assert link.get("href") == "/console/indicateurs.csv?from=2026-12-01&to=2026-12-07"
    # Tuesday 1 to Monday 7 December: two weeks, cut at the period's ends.
    weeks = [row[0] for row in tables(december)["table-weeks"][1:]]
    assert weeks == ["du 01/12/2026 au 06/12/2026", "du 07/12/2026 au 07/12/2026"]


def test_without_dates_the_last_thirty_days(console_as):
    today = clock.now().astimezone(ZoneInfo("Europe/Paris")).date()
    page = console_as("supervisor").get("/console/indicateurs")
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    assert tree.get_element_by_id("period-to").get("value") == today.isoformat()
    first = (today - timedelta(days=29)).isoformat()
    assert tree.get_element_by_id("period-from").get("value") == first


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-45", "from", "La date de début n'est pas une date valide"),
        ("to=demain", "to", "La date de fin n'est pas une date valide"),
        ("from=0001-01-01", "from", "Choisissez une date entre 1970 et 8999."),
        ("to=9999-12-31", "to", "Choisissez une date entre 1970 et 8999."),
        ("from=2026-12-02&to=2026-12-01", "from", "La date de début doit être avant"),
        ("from=2024-01-01&to=2026-01-01", "to", "Choisissez une période d'au plus 366 jours."),
    ],
)
def test_bad_dates_are_refused_in_french_naming_the_field(console_as, query, field, message):
    sam = console_as("supervisor")
    page = sam.get(f"/console/indicateurs?{query}")
    assert page.status_code == 422
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    assert message in tree.xpath("//*[@role='alert']")[0].text_content()
    assert tree.get_element_by_id(f"period-{field}").get("aria-invalid") == "true"
    assert message in tree.get_element_by_id(f"period-{field}-error").text_content()
    assert tree.xpath("//svg") == []  # no figure for a period that is not one
    download = sam.get(f"/console/indicateurs.csv?{query}")
    assert download.status_code == 422
    assert download.mimetype == "text/html"
    assert message in lxml_html.fromstring(download.get_data(as_text=True)).text_content()


def test_the_csv_holds_the_pages_figures_as_the_api_gives_them(
    client, console_as, make_staff, cohort
):
    sam = console_as("supervisor", "Sam")
    page = sam.get("/console/indicateurs")
    download = sam.get("/console/indicateurs.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    for response in (page, download):  # figures on people: never kept by a cache
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = csv_rows(download.get_data(as_text=True))
    # Every row is the API's CSV row for the same period and grouping, cell for cell.
    api = make_staff("supervisor", "Sam API")
    queries = {(r["from"], r["to"], r["group_by"]) for r in rows}
    assert {q[2] for q in queries} == {"", "department", "priority"}
    for start, end, group_by in queries:
        answer = client.get(
            "/v1/stats/indicators",
            query_string={"from": start, "to": end, **({"group_by": group_by} if group_by else {})},
            headers={**api.headers, "Accept": "text/csv"},
        )
        mine = [
            {k: v for k, v in r.items() if k not in ("from", "to", "group_by")}
            for r in rows
            if (r["from"], r["to"], r["group_by"]) == (start, end, group_by)
        ]
        assert mine == csv_rows(answer.get_data(as_text=True))
    # And they are the page's figures, small cells hidden the same way.
    found = tables(page)
    by_department = {r["group"]: r["received"] for r in rows if r["group_by"] == "department"}
    assert by_department == {"13": "6", "33": "<5"}
    assert [[code, n] for code, n in by_department.items()] == found["table-departments"][1:]
    (whole,) = [r for r in rows if r["group_by"] == ""]
    assert whole["received"] == "8"
    assert whole["P1_reviewed"] == "<5"
    assert whole["P1_median_minutes"] == ""
    assert whole["referrals_emergency_shelter_pending"] == "<5"
    weeks = [r for r in rows if r["group_by"] == "priority"]
    assert {r["group"]: r["received"] for r in weeks} == {"P1": "<5", "P4": "6"}


def test_review_times_show_once_five_reports_are_reviewed(
    client, console_as, make_staff, partner, post_report
):
    op = make_staff()
    ids = [report(post_report, partner, f"p1-{i}", **P1) for i in range(5)]
    for rid in ids:  # reviewed after 10, 20, 30, 40 and 50 minutes
        clock.travel(10 * 60)
        claim(client, op, rid)
        assert move(client, op, rid, "in_review").status_code == 200
    page = console_as("supervisor").get("/console/indicateurs")
    review = {row[0]: row[1:] for row in tables(page)["table-review"][1:]}
    assert review["P1 — danger immédiat"] == ["15 min", "5", "30 min", "50 min", "20 %"]
    text = page.get_data(as_text=True)
    assert "médiane : 30 min" in text
    assert "90e centile : 50 min" in text
    assert "délai de réponse" in text  # the reference line's label


@pytest.mark.parametrize("role", ["operator", "editor", "admin"])
def test_other_roles_are_refused_the_page_and_the_csv(console_as, cohort, role):
    console = console_as(role)
    for url in ("/console/indicateurs", "/console/indicateurs.csv?from=2026-01-01"):
        response = console.get(url)
        assert response.status_code == 403, url
        assert "text/csv" not in response.content_type
        assert "Marseille" not in response.get_data(as_text=True)
    nav = console.get("/console/accueil").get_data(as_text=True)
    assert "Indicateurs" not in nav

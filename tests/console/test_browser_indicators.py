"""Indicateurs and Journal in a real headless Chromium against a live `vigie serve`.

A supervisor opens the indicators from the navigation, sees the charts with their tables,
downloads the CSV (the same figures as the page and the API); opens the journal, filters it
by a report and reads the chain's verdict. axe-core on each page; screenshots in artifacts/.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from console_support import Site, assert_same_origin_only, live_site

pytestmark = pytest.mark.slow

BORDEAUX = {"country": "FR", "postcode": "33000", "commune": "Bordeaux"}
P1_BODY = {"persons": {"count": 3, "minors": 1, "in_immediate_danger": True}}
CHARTS = (
    "Signalements reçus par semaine et par priorité",
    "Délai avant le premier examen, comparé au délai de réponse de chaque priorité",
    "Orientations par type de destination et par suite donnée",
    "Signalements reçus par département",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Six reports in Marseille, two P1s in Bordeaux; Olga reviews one and orients it."""
    directory = tmp_path_factory.mktemp("console-indicators-live")
    staff = (("Olga", "operator"), ("Sam", "supervisor"))
    with live_site(directory, staff) as (site, accounts):
        olga = accounts["Olga"]
        site.reports["sam_token"] = accounts["Sam"]["token"]
        for i in range(6):
            site.post_report(f"LIVE-M{i}")
        p1 = site.post_report("LIVE-P1", location=BORDEAUX, **P1_BODY)
        site.post_report("LIVE-P1-BIS", location=BORDEAUX, **P1_BODY)
        site.api(f"/v1/triage/reports/{p1}/claim", olga["token"], {})
        site.api(f"/v1/triage/reports/{p1}/transitions", olga["token"], {"to": "in_review"})
        site.api(
            f"/v1/triage/reports/{p1}/referrals",
            olga["token"],
            {"target_type": "emergency_shelter", "shelter_id": site.reports["shelter"]},
        )
        site.reports["p1"] = p1
        yield site


def _api_csv(site: Site, **query: str) -> list[dict[str, str]]:
    request = urllib.request.Request(
        f"{site.url}/v1/stats/indicators?{urlencode(query)}",
        headers={"Authorization": f"Bearer {site.reports['sam_token']}", "Accept": "text/csv"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(response.read().decode())))


def _table(page: Any, name: str) -> list[list[str]]:
    """The body rows of the table captioned `name`, as cell texts."""
    table = page.get_by_role("table", name=name, exact=True)
    return [
        [" ".join(cell.split()) for cell in row.locator("th, td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def test_a_supervisor_opens_the_indicators_and_downloads_the_csv(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    sam = visitor()
    sam.login("Sam")
    page = sam.page
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Indicateurs"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Indicateurs")
    for title in CHARTS:  # each chart an image named by its title, its table beside it
        chart = page.get_by_role("img", name=title)
        expect(chart).to_be_visible()
        expect(chart).to_have_accessible_description(re.compile("tableau qui suit"))
    assert page.locator("svg[role=img]").count() == len(CHARTS)
    departments = _table(page, "Signalements reçus par département")
    assert departments == [["13", "6"], ["33", "<5"]]
    expect(page.get_by_text("8 signalements reçus.")).to_be_visible()
    sam.check_page("indicators")
    assert_same_origin_only(page.content(), "indicateurs")
    sam.shot("console-indicators.png")

    link = page.get_by_role("link", name=re.compile("CSV"))
    with page.expect_download() as started:
        link.click()
    download = started.value
    downloaded = Path(download.path()).read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert download.suggested_filename.startswith("vigie-indicateurs-")
    answer = page.context.request.get(site.url + link.get_attribute("href"))
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.text() == downloaded
    # The page's figures …
    by_department = [[r["group"], r["received"]] for r in rows if r["group_by"] == "department"]
    assert by_department == departments
    # … and, row for row, what the API gives for the same period and grouping.
    (whole,) = [r for r in rows if r["group_by"] == ""]
    api_rows = _api_csv(site, **{"from": whole["from"], "to": whole["to"]})
    assert api_rows == [{k: v for k, v in whole.items() if k not in ("from", "to", "group_by")}]
    api_departments = _api_csv(
        site, **{"from": whole["from"], "to": whole["to"], "group_by": "department"}
    )
    assert [[r["group"], r["received"]] for r in api_departments] == departments


def test_a_supervisor_filters_the_journal_by_report_and_reads_the_verdict(
    visitor: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    report_id = site.reports["p1"]
    sam = visitor()
    sam.login("Sam")
    page = sam.page
    page.get_by_role("link", name="Journal", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal")
    page.get_by_label("Signalement (identifiant)").fill(report_id)
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(f"report_id={report_id}"))
    table = page.get_by_role("table")
    expect(table).to_contain_text("Prise en charge")
    reports = table.locator("tbody tr td:nth-child(5)").all_inner_texts()
    assert reports == [report_id] * 3  # claimed, moved to review, oriented
    expect(table).to_contain_text("Olga")
    page.get_by_role("link", name="Vérifier la chaîne").click()
    expect(page.locator("#verdict")).to_contain_text("Chaîne intacte.")
    expect(page).to_have_url(re.compile(f"report_id={report_id}&verify=1#integrite$"))
    assert table.locator("tbody tr").count() == 3  # the filter stays
    sam.check_page("journal")
    assert_same_origin_only(page.content(), "journal")
    sam.shot("console-journal.png")

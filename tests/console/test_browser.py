"""The console in a real headless Chromium against a live `vigie serve`, used as staff would.

Login failure and success; the operator's path on the most urgent report (open the P1 at the
top of the queue, claim, review, orient) counted in clicks; a second operator who sees the
holder and cannot act; a supervisor who takes over and reopens; the queue refreshing itself
and announcing a new P1; axe-core on every page; screenshots into artifacts/ for reviewers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console_support import ARTIFACTS, Site, live_site
from payloads import stay_report

pytestmark = pytest.mark.slow

MAX_ACTIONS = 5  # the issue: open queue → P1 → claim → review → orient in at most five
P1_BODY = {"persons": {"count": 3, "minors": 1, "in_immediate_danger": True}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("console-live")
    settings = {"VIGIE_CONSOLE_REFRESH_SECONDS": "1"}
    staff = (("Alice", "operator"), ("Bruno", "operator"), ("Sam", "supervisor"))
    with live_site(directory, staff, env=settings) as (site, _):
        bordeaux = {"country": "FR", "postcode": "33000", "commune": "Bordeaux"}
        site.reports["p4"] = site.post_report("LIVE-P4", location=bordeaux)
        site.reports["p1"] = site.post_report(
            "LIVE-P1",
            location=bordeaux,
            description="Une femme enfermée dans un appartement, avec sa fille.",
            **P1_BODY,
        )
        yield site


def test_login_failure_then_success(visitor: Any) -> None:
    from playwright.sync_api import expect

    alice = visitor()
    alice.page.goto(alice.site.url + "/console/")
    alice.check_page("login")
    alice.login("Alice", "pas le bon mot de passe")
    alert = alice.page.get_by_role("alert")
    expect(alert).to_have_text("Identifiant ou mot de passe incorrect.")
    expect(alice.page.get_by_role("heading", level=1)).to_have_text("Connexion à la console")
    alice.check_page("login failed")
    alice.login("Alice")
    expect(alice.page.get_by_role("heading", level=1)).to_have_text("File d'attente")


def test_an_operator_handles_the_p1_in_at_most_five_actions(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    before = site.api(f"/v1/reports/{site.reports['p1']}", site.partner_key)
    alice = visitor()
    alice.login("Alice")
    page = alice.page
    expect(page.get_by_role("heading", level=1)).to_have_text("File d'attente")
    alice.check_page("queue")
    alice.shot("console-queue.png")
    alice.actions = 0  # counted from the queue, where a login lands

    first = page.locator("table.queue tbody tr").first
    expect(first).to_contain_text("P1")
    alice.act(first.get_by_role("link"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(site.reports["p1"])
    alice.act(page.get_by_role("button", name="Prendre en charge"))
    expect(page.get_by_role("status").first).to_contain_text(
        "Vous avez pris ce signalement en charge"
    )
    alice.act(page.get_by_role("button", name="Passer en examen"))
    expect(page.get_by_role("status").first).to_contain_text("Le signalement est en examen.")
    orientation = page.get_by_role("region", name="Orientation", exact=True)
    expect(orientation).to_contain_text("SIAO 33 — Bordeaux")
    expect(orientation).to_contain_text("Couvre le département")
    alice.shot("console-orientation.png", orientation)
    alice.check_page("report in review")
    suggestion = orientation.locator("li").filter(has_text="SIAO 33 — Bordeaux")
    alice.act(suggestion.get_by_role("button", name="Orienter"))
    expect(page.get_by_role("status").first).to_contain_text("Orientation enregistrée vers SIAO 33")
    alice.shot("console-report.png")
    alice.check_page("report referred")

    assert alice.actions <= MAX_ACTIONS
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "console-actions.txt").write_text(
        f"clicks after login, queue to orientation: {alice.actions}\n", "utf-8"
    )
    after = site.api(f"/v1/reports/{site.reports['p1']}", site.partner_key)
    assert after["status"] == "actioned"
    assert set(after) == set(before)  # nothing else of the operators' work
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"status", "updated_at"}, changed


def test_a_second_operator_sees_the_holder_and_cannot_act(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    report_id = site.reports["p4"]
    alice = visitor()
    alice.login("Alice")
    alice.page.goto(f"{site.url}/console/reports/{report_id}")
    alice.page.get_by_role("button", name="Prendre en charge").click()
    expect(alice.page.get_by_role("status").first).to_contain_text("pris ce signalement en charge")

    bruno = visitor()
    bruno.login("Bruno")
    bruno.page.goto(f"{site.url}/console/reports/{report_id}")
    claim = bruno.page.get_by_role("region", name="Prise en charge", exact=True)
    expect(claim).to_contain_text("Alice a ce signalement en charge jusqu'à")
    for name in (
        "Prendre en charge",
        "Passer en examen",
        "Orienter",
        "Clore",
        "Libérer",
        "Reprendre",
    ):
        expect(bruno.page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    bruno.check_page("report held by another")
    bruno.page.goto(f"{site.url}/console/queue")
    row = bruno.page.locator("tr", has=bruno.page.get_by_role("link", name=report_id))
    expect(row).to_contain_text("Alice")


def test_a_supervisor_takes_over_and_reopens(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    report_id = site.reports["p4"]  # Alice holds it (previous test)
    sam = visitor()
    sam.login("Sam")
    page = sam.page
    page.goto(f"{site.url}/console/reports/{report_id}")
    expect(page.get_by_text("Alice a ce signalement en charge")).to_be_visible()
    page.get_by_role("button", name="Reprendre").click()
    expect(page.get_by_role("status").first).to_contain_text("Vous avez repris ce signalement")
    page.get_by_label("Motif de clôture").select_option("no_grounds")
    page.get_by_role("button", name="Clore").click()
    expect(page.get_by_role("status").first).to_contain_text("Le signalement est clos.")
    page.get_by_role("button", name="Rouvrir").click()
    expect(page.get_by_role("status").first).to_contain_text("Le signalement est rouvert")
    expect(page.locator(".summary-list").first).to_contain_text("En examen")
    sam.check_page("report reopened by a supervisor")


def test_the_queue_refreshes_itself_and_announces_a_new_p1(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    alice = visitor()
    alice.login("Alice")
    page = alice.page
    page.goto(f"{site.url}/console/queue?department=33")
    priority = page.get_by_label("Priorité")
    priority.focus()
    new_p1 = site.post_report(
        "LIVE-P1-NEW",
        location={"country": "FR", "postcode": "33000", "commune": "Bordeaux"},
        stay=dict(stay_report()["stay"], listing_reference="another-flat"),
        **P1_BODY,
    )
    announcer = page.locator("#queue-announcer")
    expect(announcer).to_contain_text(f"Nouveau signalement P1 : {new_p1}", timeout=15_000)
    expect(page).to_have_title("(1 nouveau P1) File d'attente — Vigie console")
    expect(page.get_by_role("link", name=new_p1)).to_be_visible()
    assert page.url.endswith("/console/queue?department=33")  # the filters stay
    assert page.evaluate("document.activeElement.id") == "f-priority"  # and the focus
    link = page.get_by_role("link", name=new_p1)
    link.focus()
    updated = page.locator("#queue-updated")  # "Mise à jour à …" after each refresh
    expect(updated).to_contain_text("Mise à jour")
    page.evaluate("document.getElementById('queue-updated').textContent = ''")
    expect(updated).to_contain_text("Mise à jour")  # one more refresh since the focus moved
    assert page.evaluate("document.activeElement.id") == f"row-{new_p1}"  # kept across a swap
    alice.check_page("queue after refresh")

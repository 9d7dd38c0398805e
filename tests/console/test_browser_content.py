"""Hébergements and Contenus in a real headless Chromium against a live `vigie serve`.

An editor edits, previews and publishes a translation and the partner's content API serves
it; an admin updates a shelter's capacity and the directory shows the figure and its time; an
operator reads the directory with no form. The `browser` and `visitor` fixtures (conftest)
check every page as test_browser.py's do: axe-core, CSP errors, requests to another origin;
screenshots into artifacts/ for reviewers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from console_support import Site, Visitor, live_site
from content_payloads import item_body
from vigie.console.labels import when

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("console-content-live")
    staff = (("Alice", "operator"), ("Eve", "editor"))
    with live_site(directory, staff) as (site, accounts):
        item = site.api("/v1/admin/content", accounts["Eve"]["token"], item_body())
        site.reports["item"] = item["id"]
        yield site


def test_an_editor_publishes_a_translation_and_partners_read_it(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    item_id = site.reports["item"]
    eve: Visitor = visitor()
    eve.login("Eve")
    page = eve.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Contenus")
    row = page.locator("tr", has=page.get_by_role("link", name="Repérer les signes à bord"))
    expect(row).to_contain_text("Brouillon")
    eve.check_page("contents")
    eve.shot("console-contents.png")

    page.get_by_role("link", name="Repérer les signes à bord").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Repérer les signes à bord")
    french = page.get_by_role("region", name="Traduction : français (fr)")
    french.get_by_label("Titre").fill("Signes d'alerte à bord")
    french.get_by_label("Texte (Markdown)").fill(
        "Ne confrontez pas l'accompagnateur.\n\n- Notez le siège\n- Appelez le **17**"
    )
    french.get_by_role("button", name="Prévisualiser").click()
    preview = page.get_by_role("region", name="Aperçu de votre saisie (non enregistrée)")
    expect(preview.locator("strong")).to_have_text("17")
    expect(preview.get_by_role("listitem")).to_have_count(2)
    eve.check_page("content preview")
    eve.shot("console-content-preview.png")

    french = page.get_by_role("region", name="Traduction : français (fr)")
    expect(french.get_by_label("Titre")).to_have_value("Signes d'alerte à bord")  # kept
    french.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Traduction « français » enregistrée")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status").first).to_contain_text("Contenu publié (version 1)")
    expect(page.locator(".summary-list")).to_contain_text("Publié")
    eve.check_page("content published")
    eve.shot("console-content.png")

    served = site.api(f"/v1/content/{item_id}?locale=fr", site.partner_key)
    assert served["title"] == "Signes d'alerte à bord"
    assert served["version"] == 1
    assert "<strong>17</strong>" in served["body_html"]
    listed = site.api("/v1/content", site.partner_key)
    assert [i["id"] for i in listed] == [item_id]


def test_an_admin_updates_a_capacity_in_place(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    shelter_id = site.reports["shelter"]
    ada: Visitor = visitor()
    ada.login("Ada")
    page = ada.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Hébergements")
    row = page.locator(f"#shelter-{shelter_id}")
    expect(row.locator(".capacity")).to_have_text("2 sur 8")
    ada.check_page("shelters as admin")
    row.get_by_label("Places disponibles").fill("5")
    row.get_by_role("button", name="Mettre à jour").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "SIAO 33 — Bordeaux : 5 place(s) disponible(s) sur 8"
    )
    row = page.locator(f"#shelter-{shelter_id}")
    expect(row.locator(".capacity")).to_have_text("5 sur 8")
    declared = site.api(f"/v1/shelters/{shelter_id}", site.admin_token)
    assert declared["capacity_available"] == 5
    at = when(datetime.fromisoformat(declared["capacity_updated_at"]))
    expect(row.locator(".capacity-updated")).to_have_text(at)
    ada.check_page("shelters after an update")
    ada.shot("console-shelters.png")

    page.get_by_role("link", name="Comptes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes")
    expect(page.get_by_role("row", name="Alice")).to_contain_text("Actif")
    expect(page.get_by_role("button", name="Désactiver le compte Alice")).to_be_visible()
    ada.check_page("accounts")


def test_an_operator_reads_the_directory_without_a_form(visitor: Any, site: Site) -> None:
    from playwright.sync_api import expect

    alice: Visitor = visitor()
    alice.login("Alice")
    page = alice.page
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Hébergements"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hébergements")
    expect(page.get_by_role("row", name="SIAO 33 — Bordeaux")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    expect(page.get_by_role("spinbutton")).to_have_count(0)
    expect(page.get_by_role("button", name="Mettre à jour")).to_have_count(0)
    expect(page.get_by_role("link", name="Contenus")).to_have_count(0)
    alice.check_page("shelters as operator")

"""The report form in a real headless Chromium, as a host fills it, and framed on a partner's site.

A live `vigie serve`; the partner and the operator are made with the CLI, as an admin would.
Screenshots go to artifacts/embed/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, chromium_path
from embed_support import yesterday
from live import free_port, vigie_server

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "artifacts" / "embed"
SLUG = "gites-de-france"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
        pass


@contextlib.contextmanager
def _partner_site(directory: Path, port: int) -> Iterator[str]:
    """A partner's own site on another origin (another port), serving `directory`."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _partner_page(form_origin: str) -> str:
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Espace propriétaires</title></head>
<body><main><h1>Espace propriétaires</h1>
<a id="vigie-link" href="{form_origin}/embed/{SLUG}/report?lang=fr">Signaler une situation</a>
<script src="{form_origin}/embed/{SLUG}/button.js" data-lang="fr" data-link="vigie-link" defer>
</script></main></body></html>
"""


def _api(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _serious(axe_result: Any) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in axe_result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _fill(scope: Any, *, postcode: str, day: str) -> None:
    """Fill the French form the way a person does: by the labels they read."""
    scope.get_by_label("Dans un logement que je loue").check()
    scope.get_by_label("Date", exact=True).fill(day)
    scope.get_by_label("Heure", exact=True).fill("22:40")
    scope.get_by_label("Code postal").fill(postcode)
    scope.get_by_label("Commune").fill("Marseille")
    scope.get_by_label("Référence ou nom du logement").fill("Mas des Oliviers")
    scope.get_by_label("Date d'arrivée").fill(day)
    scope.get_by_label("Date de départ").fill(day)
    scope.get_by_label("Nombre de voyageurs prévu par la réservation").fill("2")
    scope.get_by_label("Plus d'occupants que prévu par la réservation ou la capacité").check()
    scope.get_by_label("Allées et venues fréquentes, à toute heure").check()
    # the keyboard alone ticks a box
    scope.get_by_label("Exploitation sexuelle").focus()
    scope.get_by_label("Exploitation sexuelle").press("Space")
    scope.get_by_label("Nombre de personnes concernées").fill("5")
    scope.get_by_label("Dont mineurs").fill("2")
    danger = scope.get_by_role("group", name="Des personnes sont-elles en danger immédiat ?")
    danger.get_by_label("Oui").check()
    scope.get_by_label("Décrivez ce que vous avez vu ou entendu").fill(
        "Réservation pour 2 personnes, au moins 5 jeunes femmes présentes, dont deux mineures."
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = chromium_path()
    if chromium is None:  # with VIGIE_TEST_REQUIRE_ALL=1 conftest already failed the session
        assert os.environ.get("VIGIE_TEST_REQUIRE_ALL") != "1"
        pytest.skip("Chromium is not installed")
    site_port = free_port()
    with vigie_server(tmp_path_factory.mktemp("embed-live"), workers=1) as server:
        partner = json.loads(
            server.vigie(
                "partner", "create", "--name", "Gîtes de France",
                "--embed-origin", f"http://127.0.0.1:{site_port}", "--json",
            )
        )  # fmt: skip
        operator = json.loads(
            server.vigie("operator", "create", "--name", "Camille", "--role", "operator", "--json")
        )
        yield {"server": server, "partner": partner, "operator": operator, "site_port": site_port}


@pytest.fixture(scope="module")
def browser(live: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


def test_a_host_reports_in_french_and_the_report_reaches_the_triage_queue(live, browser):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = live["server"]
    assert live["partner"]["slug"] == SLUG
    page = browser.new_page()
    page.goto(f"{server.url}/embed/{SLUG}/report?lang=fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Signaler une situation préoccupante")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert _serious(Axe().run(page)) == []
    page.screenshot(path=ARTIFACTS / "form-fr.png", full_page=True)

    # A mistake: the values stay, the error is beside its field and describes it
    day = yesterday()
    _fill(page, postcode="130", day=day)
    page.get_by_role("button", name="Envoyer le signalement").press("Enter")
    postcode = page.get_by_label("Code postal")
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    expect(postcode).to_have_value("130")
    expect(postcode).to_have_accessible_description(re.compile("5 chiffres"))
    expect(postcode).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Allées et venues fréquentes, à toute heure")).to_be_checked()
    expect(page.get_by_label("Exploitation sexuelle")).to_be_checked()
    expect(page.get_by_label("Dont mineurs")).to_have_value("2")
    expect(page.get_by_label("Référence ou nom du logement")).to_have_value("Mas des Oliviers")
    expect(page.get_by_label("Décrivez ce que vous avez vu ou entendu")).to_have_value(
        re.compile("dont deux mineures")
    )
    assert page.title().startswith("Erreur : ")
    assert _serious(Axe().run(page)) == []
    page.screenshot(path=ARTIFACTS / "form-errors.png", full_page=True)

    # Corrected and sent: the receipt, and the numbers to call now
    postcode.fill("13003")
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signalement envoyé")
    now = page.get_by_role("region", name="À faire maintenant")
    expect(now).to_contain_text("appelez le 17 ou le 112 maintenant")
    expect(now).to_contain_text("appelez aussi le 119")
    expect(now.get_by_role("link", name="119")).to_have_attribute("href", "tel:119")
    report_id = page.locator(".receipt dd").inner_text().strip()
    assert re.fullmatch(r"rep_[a-z0-9]+", report_id)
    assert _serious(Axe().run(page)) == []
    page.screenshot(path=ARTIFACTS / "confirmation.png", full_page=True)
    page.close()

    # The operators see it in their queue, first (P1), and it came through the form
    token = live["operator"]["token"]
    queue = _api(f"{server.url}/v1/triage/queue", token)
    assert [(i["id"], i["priority"]) for i in queue["items"]] == [(report_id, "P1")]
    detail = _api(f"{server.url}/v1/triage/reports/{report_id}", token)
    assert detail["channel"] == "form"
    assert detail["partner"]["id"] == live["partner"]["id"]
    persons = detail["persons"]
    assert (persons["count"], persons["minors"], persons["in_immediate_danger"]) == (5, 2, True)
    assert detail["reporter"]["role"] == "host"


def test_the_button_opens_the_form_in_a_dialog_on_the_partners_site_only(live, browser, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = live["server"]
    (tmp_path / "index.html").write_text(_partner_page(server.url), "utf-8")
    with _partner_site(tmp_path, live["site_port"]) as site:
        page = browser.new_page()
        page.goto(f"{site}/index.html")
        button = page.get_by_role("button", name="Signaler une situation de traite")
        expect(page.get_by_role("link", name="Signaler une situation")).to_be_hidden()
        button.click()
        dialog = page.get_by_role("dialog", name="Formulaire de signalement")
        expect(dialog).to_be_visible()
        close = dialog.get_by_role("button", name="Fermer")
        expect(close).to_be_focused()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(button).to_be_focused()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        form = page.frame_locator("iframe[title='Formulaire de signalement']")
        expect(form.get_by_role("heading", level=1)).to_have_text(
            "Signaler une situation préoccupante"
        )
        # Sent from inside the partner's frame: no cookie involved, the signed token is in the page
        _fill(form, postcode="13003", day=yesterday())
        form.get_by_role("button", name="Envoyer le signalement").click()
        expect(form.get_by_role("heading", level=1)).to_have_text("Signalement envoyé")
        page.screenshot(path=ARTIFACTS / "button-dialog.png")
        close.press("Enter")
        expect(dialog).to_be_hidden()
        expect(button).to_be_focused()
        page.close()

    # Any other site: the browser refuses to show the form in its frame
    (tmp_path / "index.html").write_text(_partner_page(server.url), "utf-8")
    with _partner_site(tmp_path, free_port()) as elsewhere:
        page = browser.new_page()
        page.goto(f"{elsewhere}/index.html")
        with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
            page.get_by_role("button", name="Signaler une situation de traite").click()
        frame = page.frame_locator("iframe[title='Formulaire de signalement']")
        expect(
            frame.get_by_role("heading", name="Signaler une situation préoccupante")
        ).to_have_count(0)
        page.close()

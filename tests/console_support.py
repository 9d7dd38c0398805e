"""Helpers for the console tests: a browser-like test client, what a page may link to, and
the browser tests' live site and visitor (shared by test_browser*.py)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from conftest import ROOT, Actor, chromium_path
from live import BIN, LiveServer, vigie_server
from payloads import stay_report

PASSWORD = "mot de passe de test 2026"
# The browser tests (a live server, Chromium): their staff password, and where screenshots go.
LIVE_PASSWORD = "une phrase de passe pour les tests"
ARTIFACTS = ROOT / "artifacts"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Any URL with a scheme or a network path (//host): a page must name none but its own paths.
OTHER_ORIGIN = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s"'<>]+""", re.I)
URL_ATTRIBUTES = re.compile(
    r"""\b(?:src|href|action|srcset|data|poster|formaction)\s*=\s*["']([^"']*)["']""", re.I
)


def assert_same_origin_only(html: str, where: str = "") -> None:
    """No attribute of the page points at another origin, and no URL with a host appears."""
    for value in URL_ATTRIBUTES.findall(html):
        assert value.startswith(("/", "#", "?")) or value == "", (where, value)
        assert not value.startswith("//"), (where, value)
    found = OTHER_ORIGIN.findall(html)
    assert found == [], (where, found)


class Console:
    """A test client used like a browser: keeps its cookie and the last page's CSRF token."""

    def __init__(self, client: FlaskClient, actor: Actor | None = None) -> None:
        self.client = client
        self.actor = actor
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not self.token:
            self.get("/console/")
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def login(self, name: str, password: str = PASSWORD, **kwargs: Any) -> Any:
        self.get("/console/")
        return self.post("/console/login", {"name": name, "password": password}, **kwargs)

    def follow(self, response: Any) -> Any:
        assert response.status_code in (302, 303), response.status_code
        return self.get(response.headers["Location"])


# -- the browser tests' live site and visitor --------------------------------------------------


@dataclass
class Site:
    server: LiveServer
    partner_key: str
    admin_token: str
    reports: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, path: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path,
            method="POST" if body is not None else "GET",
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def post_report(self, reference: str, **overrides: Any) -> str:
        body = stay_report(partner_reference=reference, **overrides)
        report_id: str = self.api("/v1/reports", self.partner_key, body)["id"]
        return report_id


SHELTER = {
    "name": "SIAO 33 — Bordeaux",
    "type": "emergency_shelter",
    "departments": ["33"],
    "accepts": ["women", "families", "minors"],
    "languages": ["fr"],
    "capacity_total": 8,
    "capacity_available": 2,
    "contact": {"name": "Permanence", "phone": "115"},
}


@contextlib.contextmanager
def live_site(
    directory: Path, staff: Iterable[tuple[str, str]], env: dict[str, str] | None = None
) -> Iterator[tuple[Site, dict[str, dict[str, Any]]]]:
    """A live server for the browser tests: the partner Airbnb, Ada (admin), `staff` (name,
    role) with LIVE_PASSWORD, and the Bordeaux shelter (its id in `site.reports["shelter"]`).
    Yields the site and the accounts by name. Skips where Chromium is missing, except in CI
    (VIGIE_TEST_REQUIRE_ALL=1), where conftest has already failed the run."""
    if chromium_path() is None:
        assert os.environ.get("VIGIE_TEST_REQUIRE_ALL") != "1"
        pytest.skip("Chromium is not installed")
    with vigie_server(directory, workers=1, env=env) as server:
        partner = json.loads(server.vigie("partner", "create", "--name", "Airbnb", "--json"))
        accounts = {"Ada": live_staff(server, "Ada", "admin")}
        for name, role in staff:
            accounts[name] = live_staff(server, name, role)
        site = Site(server, partner["api_key"], accounts["Ada"]["token"])
        site.reports["shelter"] = site.api("/v1/shelters", site.admin_token, SHELTER)["id"]
        yield site, accounts


def live_staff(server: LiveServer, name: str, role: str) -> dict[str, Any]:
    """A staff account on a live server, with LIVE_PASSWORD as its console password."""
    created = json.loads(
        server.vigie("operator", "create", "--name", name, "--role", role, "--json")
    )
    subprocess.run(
        [str(BIN / "vigie"), "operator", "set-password", name],
        env=server.env,
        input=LIVE_PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return created


class Visitor:
    """One browser context (its own cookies), with what a test checks on every page."""

    def __init__(self, browser: Any, site: Site) -> None:
        self.context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.site = site
        self.actions = 0
        self.csp_errors: list[str] = []
        self.other_origins: list[str] = []
        self.page.on("console", self._console)
        self.page.on("request", self._request)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp_errors.append(message.text)

    def _request(self, request: Any) -> None:
        if not request.url.startswith(self.site.url):
            self.other_origins.append(request.url)

    def act(self, locator: Any) -> None:
        """A click the staff member makes (counted)."""
        self.actions += 1
        locator.click()

    def login(self, name: str, password: str = LIVE_PASSWORD) -> None:
        self.page.goto(self.site.url + "/console/")
        self.page.get_by_label("Identifiant").fill(name)
        self.page.get_by_label("Mot de passe").fill(password)
        self.page.get_by_role("button", name="Se connecter").click()

    def check_page(self, label: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        violations = Axe().run(self.page).response["violations"]
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (label, serious)
        assert self.page.locator("h1").count() == 1, label
        assert self.csp_errors == [], (label, self.csp_errors)
        assert self.other_origins == [], (label, self.other_origins)

    def shot(self, name: str, locator: Any = None) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        target = locator if locator is not None else self.page
        target.screenshot(path=str(ARTIFACTS / name), **({} if locator else {"full_page": True}))

    def close(self) -> None:
        self.context.close()

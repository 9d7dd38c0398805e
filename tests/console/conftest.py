"""Console fixtures: staff accounts with passwords, and test clients logged in as them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import SEEDER, Actor, chromium_path
from console_support import PASSWORD, Console, Site, Visitor
from vigie.operators import service as operators
from vigie.operators.models import Operator


@pytest.fixture(autouse=True)
def _light_argon2(monkeypatch):
    """Argon2 with small costs in these in-process tests (the live-server tests keep the real
    ones): the hashes stay Argon2id, only faster to make on a 2-core test machine."""
    from argon2 import PasswordHasher

    light = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr("vigie.credentials._hasher", lambda: light)


@pytest.fixture
def with_password(db) -> Callable[..., Actor]:
    def set_password(actor: Actor, password: str = PASSWORD) -> Actor:
        with db.unit() as session:
            account = session.get(Operator, actor["pk"])
            operators.set_password(session=session, who=SEEDER, operator=account, password=password)
            actor["name"] = account.name
        return actor

    return set_password


@pytest.fixture
def console_as(app, make_staff, with_password) -> Callable[..., Console]:
    """A client logged in to the console as a new account of `role`, on its landing page."""

    def login(role: str = "operator", name: str | None = None) -> Console:
        actor = with_password(make_staff(role, name or f"{role} console"))
        console = Console(app.test_client(), actor)
        console.follow(console.login(actor["name"]))
        return console

    return login


@pytest.fixture
def anonymous(app) -> Console:
    return Console(app.test_client())


CONTACT = {
    "role": "host",
    "contact_consent": True,
    "contact": {"name": "Nina", "phone": "0600000000"},
}


@pytest.fixture
def pages(app, client, partner, post_report, make_staff, console_as, anonymous) -> dict:
    """One response of every kind of console page, as the roles that see them."""
    from triage_support import P1, report, shelter

    shelter(client, make_staff("admin", "Ada API"))
    p1 = report(post_report, partner, "P1", reporter=CONTACT, **P1)
    flight = report(post_report, partner, "FL", as_flight=True)
    alice, bob = console_as("operator", "Alice"), console_as("operator", "Bob")
    supervisor, editor = console_as("supervisor", "Sam"), console_as("editor", "Eve")
    shown = {
        "login": anonymous.get("/console/"),
        "login failed": anonymous.login("Alice", "wrong password 123"),
        "queue": alice.get("/console/queue"),
        "queue filtered": alice.get("/console/queue?priority=P1&overdue=false&department=13"),
        "queue bad filter": alice.get("/console/queue?priority=P9&cursor=nonsense"),
        "queue rows": alice.get("/console/queue/rows"),
        "report": alice.get(f"/console/reports/{p1}"),
    }
    alice.post(f"/console/reports/{p1}/claim")
    alice.post(f"/console/reports/{p1}/review")
    shown["report claimed"] = alice.get(f"/console/reports/{p1}")
    shown["report held by another"] = bob.get(f"/console/reports/{p1}")
    shown["report as supervisor"] = supervisor.get(f"/console/reports/{p1}")
    shown["flight report"] = alice.get(f"/console/reports/{flight}")
    shown["home"] = editor.get("/console/accueil")
    shown["403"] = editor.get("/console/queue")
    shown["404"] = alice.get("/console/reports/rep_doesnotexist")
    shown["400"] = alice.client.post(f"/console/reports/{p1}/claim")
    for name, response in shown.items():
        assert response.status_code < 500, name
    return shown


# -- browser tests: each module defines its own `site` (a live server) --------------------


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def visitor(browser: Any, site: Site) -> Iterator[Any]:
    opened: list[Visitor] = []

    def open_one() -> Visitor:
        opened.append(Visitor(browser, site))
        return opened[-1]

    yield open_one
    for one in opened:
        one.close()

"""Hébergements: the directory as operators, supervisors and admins read it, and the admins'
capacity form, which is the API's PATCH /v1/shelters/{id} with its audit entry."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console_support import assert_same_origin_only
from triage_support import shelter
from vigie import clock
from vigie.audit.models import AuditEntry
from vigie.console import labels
from vigie.shelters.models import Shelter


def _html(response):
    return response.get_data(as_text=True)


def _alert(html):
    found = re.search(r'role="alert"><p>(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def _status(html):
    found = re.search(r'role="status"><p>(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def _shelter_audit(db, shelter_id):
    with db.unit() as session:
        return [
            (e.action, e.actor, e.actor_role, e.details)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.target == shelter_id).order_by(AuditEntry.seq)
            )
        ]


def _capacity(db, shelter_id):
    with db.unit() as session:
        found = session.scalars(select(Shelter).where(Shelter.public_id == shelter_id)).one()
        return found.capacity_available, found.capacity_total, found.capacity_updated_at


@pytest.fixture
def siao(client, make_staff):
    return shelter(client, make_staff("admin", "Ada API"), name="SIAO 13 — Marseille")


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_triage_staff_read_the_directory_without_any_form(console_as, siao, role):
    console = console_as(role)
    response = console.get("/console/shelters")
    html = _html(response)
    assert response.status_code == 200
    assert "<h1>Hébergements</h1>" in html
    assert "SIAO 13 — Marseille" in html
    assert "3 sur 10" in html  # declared places available, out of the total
    assert "Hébergement d&#39;urgence (SIAO, 115)" in html
    assert "<form" not in html.split("</header>", 1)[1]  # the logout form is in the header
    assert "Nouvelle capacité" not in html
    assert_same_origin_only(html, role)
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_navigation_leads_each_role_to_its_pages(console_as):
    operator = _html(console_as("operator").get("/console/queue"))
    assert ">Hébergements</a>" in operator
    assert ">Contenus</a>" not in operator
    admin = console_as("admin")
    landing = admin.client.get("/console/")
    assert landing.headers["Location"] == "/console/shelters"  # an admin lands on its page
    assert ">Contenus</a>" not in _html(admin.get("/console/shelters"))


def test_an_admin_updates_the_capacity_with_the_apis_audit_entry(db, console_as, siao):
    admin = console_as("admin", "Ada")
    clock.travel(10 * 60)  # the declaration's time is the update's, not the creation's
    page = admin.get("/console/shelters")
    assert 'name="capacity_available"' in _html(page)
    response = admin.post(
        f"/console/shelters/{siao['id']}/capacity",
        {"capacity_available": "7", "capacity_total": "12"},
    )
    assert response.status_code == 302
    html = _html(admin.follow(response))
    available, total, updated_at = _capacity(db, siao["id"])
    assert (available, total) == (7, 12)
    assert "7 sur 12" in html
    assert labels.when(updated_at) in html  # the table shows when it was declared
    assert "SIAO 13 — Marseille : 7 place(s) disponible(s) sur 12" in _status(html)
    entries = _shelter_audit(db, siao["id"])
    assert [e[0] for e in entries] == ["shelter.created", "shelter.updated"]
    _, actor, role, details = entries[-1]
    assert (actor, role) == (admin.actor["id"], "admin")
    assert details == {"fields": ["capacity_available", "capacity_total"]}


def test_the_same_figure_is_still_a_fresh_declaration(db, console_as, siao):
    admin = console_as("admin")
    before = _capacity(db, siao["id"])[2]
    clock.travel(5 * 60)
    admin.get("/console/shelters")
    admin.post(
        f"/console/shelters/{siao['id']}/capacity",
        {"capacity_available": "3", "capacity_total": "10"},
    )
    assert _capacity(db, siao["id"])[2] > before
    assert _shelter_audit(db, siao["id"])[-1][3] == {"fields": ["capacity_available"]}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"capacity_available": "-1", "capacity_total": "10"}, "au moins 0"),
        ({"capacity_available": "11", "capacity_total": "10"}, "au plus la capacité totale"),
        ({"capacity_available": "", "capacity_total": "10"}, "nombre de places disponibles"),
        ({"capacity_available": "trois", "capacity_total": "10"}, "nombre entier"),
        ({"capacity_available": "2", "capacity_total": "-5"}, "La capacité totale"),
    ],
)
def test_bad_figures_are_said_in_french_and_write_nothing(db, console_as, siao, form, message):
    admin = console_as("admin")
    before = _capacity(db, siao["id"])
    admin.get("/console/shelters")
    response = admin.post(f"/console/shelters/{siao['id']}/capacity", form)
    html = _html(admin.follow(response))
    assert message in _alert(html)
    assert _capacity(db, siao["id"]) == before
    assert [e[0] for e in _shelter_audit(db, siao["id"])] == ["shelter.created"]


def test_an_unknown_shelter_is_a_french_404(console_as):
    admin = console_as("admin")
    admin.get("/console/shelters")
    response = admin.post(
        "/console/shelters/shl_nope/capacity", {"capacity_available": "1", "capacity_total": "2"}
    )
    assert response.status_code == 404
    assert "n&#39;existe pas" in _html(response)


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_the_capacity_form_without_its_csrf_token_is_refused(db, console_as, siao, token):
    admin = console_as("admin")
    before = _capacity(db, siao["id"])
    data = {"capacity_available": "9", "capacity_total": "10"}
    if token is not None:
        data["csrf_token"] = token
    response = admin.client.post(f"/console/shelters/{siao['id']}/capacity", data=data)
    assert response.status_code == 400
    assert "jeton de sécurité" in _html(response)
    assert _capacity(db, siao["id"]) == before
    assert [e[0] for e in _shelter_audit(db, siao["id"])] == ["shelter.created"]


@pytest.mark.parametrize("role", ["operator", "supervisor", "editor"])
def test_only_admins_change_a_capacity(db, console_as, siao, role):
    console = console_as(role)
    before = _capacity(db, siao["id"])
    response = console.post(
        f"/console/shelters/{siao['id']}/capacity",
        {"capacity_available": "0", "capacity_total": "10"},
    )
    assert response.status_code == 403
    assert "Accès refusé" in _html(response)
    assert _capacity(db, siao["id"]) == before

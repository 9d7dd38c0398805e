"""Comptes: admins read the staff accounts and disable one, as `vigie operator disable` does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console_support import assert_same_origin_only
from vigie.audit.models import AuditEntry
from vigie.operators.models import Operator


def _html(response):
    return response.get_data(as_text=True)


def _status(html):
    found = re.search(r'role="status"><p>(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def _account(db, public_id):
    with db.unit() as session:
        account = session.scalars(select(Operator).where(Operator.public_id == public_id)).one()
        entries = [
            (e.action, e.actor)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.target == public_id))
        ]
        return account.disabled_at, entries


def test_an_admin_sees_every_account_with_its_role_and_state(console_as, make_staff):
    make_staff("editor", "Eve")
    admin = console_as("admin", "Ada")
    html = _html(admin.get("/console/accounts"))
    assert "<h1>Comptes</h1>" in html
    assert "Eve" in html
    assert "Éditeur·rice" in html
    assert "Ada (vous)" in html
    assert html.count(">Désactiver<") == 1  # Eve's; never one's own account
    assert_same_origin_only(html, "accounts")


def test_disabling_an_account_is_the_commands_with_its_audit_entry(
    db, console_as, make_staff, with_password
):
    bob = console_as("operator", "Bob")
    admin = console_as("admin", "Ada")
    admin.get("/console/accounts")
    response = admin.post(f"/console/accounts/{bob.actor['id']}/disable")
    html = _html(admin.follow(response))
    assert "Le compte Bob est désactivé" in _status(html)
    assert "Désactivé le" in html
    disabled_at, entries = _account(db, bob.actor["id"])
    assert disabled_at is not None
    assert ("operator.disabled", admin.actor["id"]) in entries
    assert bob.get("/console/queue").status_code == 302  # the open session ended at once
    refused = bob.login("Bob")  # and the login is refused
    assert "Identifiant ou mot de passe incorrect." in _html(refused)


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_disabling_without_the_csrf_token_is_refused(db, console_as, token):
    bob = console_as("operator", "Bob")
    admin = console_as("admin", "Ada")
    data = {} if token is None else {"csrf_token": token}
    response = admin.client.post(f"/console/accounts/{bob.actor['id']}/disable", data=data)
    assert response.status_code == 400
    assert _account(db, bob.actor["id"])[0] is None


@pytest.mark.parametrize("role", ["operator", "supervisor", "editor"])
def test_only_admins_see_or_disable_accounts(db, console_as, role):
    bob = console_as("operator", "Bob")
    console = console_as(role)
    assert console.get("/console/accounts").status_code == 403
    assert console.post(f"/console/accounts/{bob.actor['id']}/disable").status_code == 403
    assert _account(db, bob.actor["id"])[0] is None

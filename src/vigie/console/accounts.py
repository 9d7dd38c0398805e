"""Comptes: the staff accounts, for admins — read, and disable one.

The list is `operators.service.list_`, and **Désactiver** is `operators.service.disable`, the
function behind `vigie operator disable` (audited as `operator.disabled`): the account's API
token and console sessions stop working on their next request. Creating accounts, setting
passwords and rotating tokens stay on the command line, where a secret is shown once.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from sqlalchemy.orm import Session

from vigie import web
from vigie.console import forms, security
from vigie.console.blueprint import blp
from vigie.operators import service as operators

ADMINS = ("admin",)


@blp.get("/accounts")
@security.allow(*ADMINS)
def accounts_page() -> Any:
    return render_template("console/accounts.html", accounts=operators.list_(session=web.session()))


@blp.post("/accounts/<string:operator_id>/disable")
@security.allow(*ADMINS)
def account_disable(operator_id: str) -> Any:
    def run(session: Session) -> str:
        account = operators.find(session=session, name=operator_id)
        operators.disable(session=session, who=security.who(), operator=account)
        return (
            f"Le compte {account.name} est désactivé : il ne peut plus se connecter et son "
            "jeton d'API ne fonctionne plus."
        )

    return forms.act(url_for("console.accounts_page"), run)

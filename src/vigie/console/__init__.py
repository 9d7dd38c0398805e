"""The operator console: MIPROF staff triage, orient and follow up reports in a browser.

Server-rendered pages under `/console/` in the same Flask app (Jinja templates, plain CSS,
one small same-origin script), outside the OpenAPI document. A page is a view like the API's:
it parses its form, calls the same service function the API view calls, commits once, and
renders a template; no business rule lives here. Who is logged in is Flask-Login's work
(`security.py`), CSRF tokens Flask-WTF's, password hashes argon2-cffi's (`vigie.credentials`).

Pages: the login page, the queue (`queue.py`), one report (`report.py`), the shelter
directory (`shelters.py`), the editors' content (`content.py`), for admins the staff accounts
(`accounts.py`), and for supervisors the indicators (`indicators.py`) and the audit log
(`journal.py`). Each page declares the roles it admits with `security.allow`.
"""

from __future__ import annotations

from flask import Flask

from vigie.config import Config
from vigie.console import (
    account,
    accounts,
    content,
    indicators,
    journal,
    labels,
    queue,
    report,
    security,
    shelters,
)
from vigie.console.blueprint import blp

__all__ = ["BLUEPRINT", "init_app"]

BLUEPRINT = blp.name
# importing the pages registers their routes on `blp`
_PAGES = (account, queue, report, shelters, content, accounts, indicators, journal)


def init_app(app: Flask, config: Config) -> None:
    """Register the console's blueprint, its login manager, CSRF protection and cookies."""
    security.init_app(app, config)
    for name, function in labels.FILTERS.items():
        app.jinja_env.filters.setdefault(name, function)
    app.register_blueprint(blp)

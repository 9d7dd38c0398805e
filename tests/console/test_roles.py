"""Every console URL against every role, generated from the console blueprint's URL map.

The expected roles are written here, apart from the code: a console route missing from
EXPECTED fails the first test, so a new page cannot ship without saying who may open it.
"""

from __future__ import annotations

import pytest

from triage_support import P1, report
from vigie.credentials import ROLES

PUBLIC = "public"
ANY_STAFF = frozenset(ROLES)
TRIAGE = frozenset({"operator", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})
SHELTER_READERS = frozenset({"operator", "supervisor", "admin"})
ADMINS = frozenset({"admin"})
EDITORS = frozenset({"editor"})

EXPECTED = {
    "console.static": PUBLIC,
    "console.index": PUBLIC,
    "console.login": PUBLIC,
    "console.logout": ANY_STAFF,
    "console.home": ANY_STAFF,
    "console.queue_page": TRIAGE,
    "console.queue_rows": TRIAGE,
    "console.report_page": TRIAGE,
    "console.claim": TRIAGE,
    "console.release": TRIAGE,
    "console.review": TRIAGE,
    "console.close": TRIAGE,
    "console.refer": TRIAGE,
    "console.note": TRIAGE,
    "console.takeover": SUPERVISORS,
    "console.reopen": SUPERVISORS,
    "console.shelters_page": SHELTER_READERS,
    "console.shelter_capacity": ADMINS,
    "console.contents_page": EDITORS,
    "console.content_page": EDITORS,
    "console.content_translation": EDITORS,
    "console.content_publish": EDITORS,
    "console.content_retire": EDITORS,
    "console.accounts_page": ADMINS,
    "console.account_disable": ADMINS,
    "console.indicators_page": SUPERVISORS,
    "console.indicators_csv": SUPERVISORS,
    "console.journal_page": SUPERVISORS,
}
# Ids of the other pages: unknown ones (404 for the roles admitted, 403 before for the others).
OTHER_IDS = {"shelter_id": "shl_unknown", "item_id": "cnt_unknown", "operator_id": "opr_unknown"}
SECRET_TEXT = "Description that only triage may read"


def _console_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("console.")]


def _calls(app, report_id):
    """(endpoint, method, url) for every console rule and method."""
    calls = []
    for rule in _console_rules(app):
        values = {"report_id": report_id} if "report_id" in rule.arguments else {}
        values.update({k: v for k, v in OTHER_IDS.items() if k in rule.arguments})
        if "filename" in rule.arguments:
            values["filename"] = "console.css"
        _, path = rule.build(values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((rule.endpoint, method, path))
    return calls


def test_every_console_route_declares_who_may_use_it(app):
    endpoints = {rule.endpoint for rule in _console_rules(app)}
    assert endpoints == set(EXPECTED)
    for endpoint in endpoints - {"console.static"}:
        view = app.view_functions[endpoint]
        declared = view.console_roles
        expected = EXPECTED[endpoint]
        if expected == PUBLIC:
            assert declared is None, endpoint
        else:
            assert set(declared) <= ANY_STAFF, endpoint


@pytest.fixture
def secret_report(partner, post_report):
    return report(post_report, partner, "ROLE-REF-1", description=SECRET_TEXT, **P1)


def _assert_nothing_of_the_report(html, report_id=None):
    for leaked in (report_id, SECRET_TEXT, "ROLE-REF-1", "Marseille", "13003"):
        if leaked:
            assert leaked not in html


@pytest.mark.parametrize("role", ROLES)
def test_every_console_url_refuses_the_roles_that_may_not_use_it(
    app, console_as, secret_report, role
):
    console = console_as(role, f"{role} matrix")
    checked = 0
    for endpoint, method, url in _calls(app, secret_report):
        expected = EXPECTED[endpoint]
        if expected == PUBLIC or endpoint == "console.logout":
            continue
        response = console.get(url) if method == "GET" else console.post(url, {"body": "x"})
        html = response.get_data(as_text=True)
        if role in expected:
            assert response.status_code != 403, (role, method, url)
            assert response.status_code < 500, (role, method, url, html[:500])
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
            assert "Accès refusé" in html
            _assert_nothing_of_the_report(html, secret_report)
        checked += 1
    assert checked == len(EXPECTED) - 4  # every non-public route but logout, checked


def test_every_console_url_sends_anonymous_visitors_to_the_login_page(
    app, anonymous, secret_report
):
    anonymous.get("/console/")  # a CSRF token of an anonymous session
    for endpoint, method, url in _calls(app, secret_report):
        if EXPECTED[endpoint] == PUBLIC:
            continue
        response = anonymous.get(url) if method == "GET" else anonymous.post(url, {"body": "x"})
        html = response.get_data(as_text=True)
        if endpoint == "console.queue_rows":
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].split("?")[0] == "/console/", url
        _assert_nothing_of_the_report(html)  # the redirect names only the URL asked for

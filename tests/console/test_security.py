"""The console's guard: login, refusal windows, sessions, CSRF, headers and roles."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from conftest import SEEDER
from console_support import PASSWORD, Console, assert_same_origin_only
from triage_support import P1, report
from vigie import clock
from vigie.audit.models import AuditEntry
from vigie.operators import service as operators
from vigie.operators.models import Operator
from vigie.reports.models import Report


def _text(response) -> str:
    return response.get_data(as_text=True)


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


# -- the login page ---------------------------------------------------------------------------


def test_login_page_has_its_labelled_fields_and_button(anonymous):
    response = anonymous.get("/console/")
    html = _text(response)
    assert response.status_code == 200
    assert '<label for="name">Identifiant</label>' in html
    assert '<label for="password">Mot de passe</label>' in html
    assert 'type="password"' in html
    assert ">Se connecter</button>" in html
    assert html.count("<h1") == 1


def test_a_failed_login_says_so_in_an_alert_and_stays_on_the_page(
    anonymous, make_staff, with_password
):
    with_password(make_staff("operator", "Camille"))
    response = anonymous.login("Camille", "not the password at all")
    html = _text(response)
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert "Identifiant ou mot de passe incorrect." in html
    assert ">Se connecter</button>" in html
    assert anonymous.get("/console/queue").status_code == 302  # still not logged in


def test_the_answer_never_says_whether_the_account_exists(app, make_staff, with_password):
    with_password(make_staff("operator", "Camille"))
    disabled = with_password(make_staff("operator", "Dominique"))
    make_staff("operator", "Sans mot de passe")
    with app.extensions["vigie"].db.unit() as session:
        operators.disable(
            session=session, who=SEEDER, operator=session.get(Operator, disabled["pk"])
        )

    answers = set()
    for name in ("Camille", "Personne", "Dominique", "Sans mot de passe"):
        console = Console(app.test_client())
        password = PASSWORD if name == "Dominique" else "wrong password 123"
        response = console.login(name, password)
        assert response.status_code == 200
        answers.add(_without_token(_text(response)).replace(name, "NAME"))
    assert len(answers) == 1


def test_a_successful_login_lands_on_the_queue_with_a_protected_cookie(
    anonymous, make_staff, with_password
):
    with_password(make_staff("operator", "Camille"))
    response = anonymous.login("Camille")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/queue")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("vigie_console=")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/console/"):
        assert flag in cookie
    assert "Expires" not in cookie  # gone with the browser; the idle timeout is on the server
    page = anonymous.get("/console/queue")
    assert page.status_code == 200
    assert "Camille" in _text(page)


def test_cookies_are_not_secure_only_in_development(make_app, make_staff, with_password):
    with_password(make_staff("operator", "Camille"))
    console = Console(make_app(env="development").test_client())
    cookie = console.login("Camille").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_login_and_logout_are_audited(app, db, make_staff, with_password):
    actor = with_password(make_staff("operator", "Camille"))
    console = Console(app.test_client())
    console.login("Camille")
    console.get("/console/queue")
    assert console.post("/console/logout").status_code == 302
    assert console.get("/console/queue").status_code == 302
    with db.unit() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.actor == actor["id"])
            .order_by(AuditEntry.seq)
        ).all()
    assert actions == ["operator.logged_in", "operator.logged_out"]


def test_logout_is_a_post(console_as):
    console = console_as("operator")
    assert console.client.get("/console/logout").status_code == 405
    assert console.get("/console/queue").status_code == 200


def test_login_goes_back_to_the_page_asked_for_but_never_elsewhere(app, make_staff, with_password):
    with_password(make_staff("operator", "Camille"))
    for target, landing in (
        ("/console/queue?priority=P1", "/console/queue?priority=P1"),
        ("https://evil.example/", "/console/queue"),
        ("//evil.example/console/", "/console/queue"),
        ("/v1/reports", "/console/queue"),
    ):
        console = Console(app.test_client())
        console.get("/console/")
        response = console.post(
            "/console/login", {"name": "Camille", "password": PASSWORD, "next": target}
        )
        assert response.headers["Location"] == landing


# -- disabled accounts and changed passwords ------------------------------------------------


def test_a_disabled_account_cannot_log_in_and_its_session_ends_at_once(app, db, console_as):
    console = console_as("operator", "Camille")
    assert console.get("/console/queue").status_code == 200
    with db.unit() as session:
        operators.disable(
            session=session, who=SEEDER, operator=session.get(Operator, console.actor["pk"])
        )
    assert console.get("/console/queue").status_code == 302
    again = Console(app.test_client()).login("Camille")
    assert again.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in _text(again)
    token = console.actor.headers
    assert app.test_client().get("/v1/triage/queue", headers=token).status_code == 401


def test_a_new_password_ends_the_other_sessions(db, console_as):
    console = console_as("operator", "Camille")
    with db.unit() as session:
        operators.set_password(
            session=session,
            who=SEEDER,
            operator=session.get(Operator, console.actor["pk"]),
            password="un tout nouveau mot de passe",
        )
    assert console.get("/console/queue").status_code == 302


# -- the growing refusal window ---------------------------------------------------------------


def _fail(console, name, times):
    for _ in range(times):
        assert console.login(name, "wrong password 123").status_code == 200


@pytest.mark.parametrize("name", ["Camille", "Personne"])
def test_repeated_failures_open_a_growing_refusal_window(app, make_staff, with_password, name):
    with_password(make_staff("operator", "Camille"))
    console = Console(app.test_client())
    _fail(console, name, 3)
    refused = console.login(name, PASSWORD)  # even the right password is not heard now
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert 'role="alert"' in _text(refused)
    assert "réessayez dans 2 secondes" in _text(refused)

    clock.travel(2.1)
    _fail(console, name, 1)
    refused = console.login(name, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "4"

    clock.travel(4.1)
    _fail(console, name, 1)
    assert console.login(name, PASSWORD).headers["Retry-After"] == "8"


def test_the_window_is_per_name_and_a_success_clears_it(app, make_staff, with_password):
    with_password(make_staff("operator", "Camille"))
    with_password(make_staff("operator", "Lou"))
    console = Console(app.test_client())
    _fail(console, "Camille", 3)
    assert console.login("Camille").status_code == 429
    assert Console(app.test_client()).login("Lou").status_code == 302  # another name: heard
    clock.travel(2.1)
    assert console.login("Camille").status_code == 302
    other = Console(app.test_client())
    _fail(other, "Camille", 2)
    assert other.login("Camille").status_code == 302  # the count started again at zero


def test_many_failures_from_one_address_are_refused_whatever_the_name(app):
    console = Console(app.test_client())
    for n in range(10):
        assert console.login(f"name {n}", "wrong password 123").status_code == 200
    refused = console.login("yet another name", "wrong password 123")
    assert refused.status_code == 429


# -- idle timeout -----------------------------------------------------------------------------


def test_thirty_idle_minutes_end_the_session(console_as):
    console = console_as("operator")
    clock.travel(29 * 60)
    assert console.get("/console/queue").status_code == 200  # activity: the clock restarts
    clock.travel(29 * 60)
    assert console.get("/console/queue").status_code == 200
    clock.travel(31 * 60)
    expired = console.get("/console/queue")
    assert expired.status_code == 302
    login = console.get(expired.headers["Location"])
    assert "Votre session a expiré" in _text(login)
    assert console.get("/console/queue").status_code == 302


def test_the_queue_refreshing_itself_does_not_keep_a_session_alive(console_as):
    console = console_as("operator")
    clock.travel(20 * 60)
    assert console.get("/console/queue/rows").status_code == 200
    clock.travel(15 * 60)
    assert console.get("/console/queue/rows").status_code == 401
    assert console.get("/console/queue").status_code == 302


# -- CSRF ----------------------------------------------------------------------------------


def _claims_and_audit(db, report_id):
    with db.unit() as session:
        claimed = session.scalar(select(Report.claimed_by_id).where(Report.public_id == report_id))
        entries = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.report_id == report_id)
        )
    return claimed, entries


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    db, partner, post_report, console_as, token
):
    report_id = report(post_report, partner, "CSRF", **P1)
    console = console_as("operator")
    before = _claims_and_audit(db, report_id)
    data = {} if token is None else {"csrf_token": token}
    for url in (f"/console/reports/{report_id}/claim", f"/console/reports/{report_id}/notes"):
        response = console.client.post(url, data={**data, "body": "note"})
        assert response.status_code == 400
        assert "jeton de sécurité" in _text(response)
        assert report_id not in _text(response)
    assert _claims_and_audit(db, report_id) == before == (None, 0)
    assert console.client.post("/console/logout", data=data).status_code == 400
    assert console.get("/console/queue").status_code == 200  # still logged in


def test_the_login_form_needs_its_token_too(anonymous, make_staff, with_password):
    with_password(make_staff("operator", "Camille"))
    response = anonymous.client.post(
        "/console/login", data={"name": "Camille", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert anonymous.get("/console/queue").status_code == 302


def test_the_json_api_needs_no_csrf_token_and_sets_no_cookie(
    client, partner, post_report, make_staff
):
    report_id = report(post_report, partner, "API", **P1)
    operator = make_staff("operator")
    response = client.post(
        f"/v1/triage/reports/{report_id}/claim", json={}, headers=operator.headers
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")  # shared caches stay shared


# -- headers and origins on every page --------------------------------------------------------


def test_every_console_page_has_the_security_headers(pages):
    for url, response in pages.items():
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp, url
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_page_has_inline_script_or_style_or_another_origin(pages):
    for url, response in pages.items():
        html = _text(response)
        assert_same_origin_only(html, url)
        assert "<style" not in html, url
        assert " style=" not in html, url
        for script in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S):
            assert script.strip() == "", url


def test_the_console_is_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]

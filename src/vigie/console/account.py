"""Logging in and out, the landing page, the navigation and the console's error pages."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from vigie import clock, ratelimit, web
from vigie.console import labels, security
from vigie.console.blueprint import blp
from vigie.console.messages import french
from vigie.console.throttle import LoginThrottle
from vigie.credentials import PASSWORD_MAX_LENGTH
from vigie.errors import Problem, log_failure
from vigie.operators import service as operators

log = logging.getLogger("vigie.console")

# The navigation: (endpoint, link text, roles). Pages of later slices add their line here.
NAV = (
    ("console.queue_page", "File d'attente", security.TRIAGE),
    ("console.shelters_page", "Hébergements", ("operator", "admin")),
    ("console.contents_page", "Contenus", ("editor",)),
    ("console.accounts_page", "Comptes", ("admin",)),
    ("console.indicators_page", "Indicateurs", security.SUPERVISE),
    ("console.journal_page", "Journal", security.SUPERVISE),
)

LOGIN_FAILED = "Identifiant ou mot de passe incorrect."


def throttle() -> LoginThrottle:
    """The failed-login counts, in the rate limiter's store (shared by every process)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    found: LoginThrottle | None = app.extensions.get("vigie.console.throttle")
    if found is None:
        found = LoginThrottle(*ratelimit.storage_of(app))
        app.extensions["vigie.console.throttle"] = found
    return found


@blp.app_template_global()
def console_nav() -> list[dict[str, Any]]:
    user = security.current()
    return [
        {"href": url_for(endpoint), "text": text, "current": request.endpoint == endpoint}
        for endpoint, text, roles in NAV
        if user.has_role(*roles)
    ]


@blp.context_processor
def _labels() -> dict[str, Any]:
    return {**labels.TABLES, "role_labels": security.ROLE_LABELS}


def _landing() -> str:
    """The first page of the navigation the staff member may open (the queue for triage)."""
    user = security.current()
    for endpoint, _text, roles in NAV:
        if user.has_role(*roles):
            return url_for(endpoint)
    return url_for("console.home")


@blp.get("/")
@security.public
def index() -> Any:
    """The login page, or where a logged-in staff member starts."""
    if security.logged_in():
        return redirect(_landing())
    return render_template("console/login.html", next=security.safe_next(request.args.get("next")))


def _login_refused(name: str, message: str, status: int, **headers: str) -> Response:
    body = render_template(
        "console/login.html",
        error=message,
        name=name,
        next=security.safe_next(request.form.get("next")),
    )
    return Response(body, status=status, headers=headers)


def _attempts_wait() -> int:
    """Seconds before this address may try again: attempts per minute are limited too."""
    return ratelimit.address_wait("console-login", ratelimit.of().console_logins_per_minute)


@blp.post("/login")
@security.public
def login() -> Any:
    name = request.form.get("name", "")[:200]
    password = request.form.get("password", "")[:PASSWORD_MAX_LENGTH]
    address = ratelimit.of().address()
    now = clock.now().timestamp()
    wait = _attempts_wait() or throttle().wait(name, address, now)
    if wait:
        message = (
            "Trop de tentatives de connexion. Pour votre sécurité, réessayez dans "
            f"{wait} seconde{'s' if wait > 1 else ''}."
        )
        return _login_refused(name, message, 429, **{"Retry-After": str(wait)})
    with web.runtime().db.unit() as db_session:
        operator = operators.authenticate(
            session=db_session, name=name, password=password, request_id=g.get("request_id")
        )
        user = security.user_of(operator) if operator is not None else None
    if user is None:
        throttle().failed(name, address, now)
        return _login_refused(name, LOGIN_FAILED, 200)
    throttle().succeeded(name)
    session.clear()  # nothing of the anonymous session (its CSRF token) carries over
    login_user(user)
    security.mark_active()
    return redirect(security.safe_next(request.form.get("next")) or _landing())


@blp.post("/logout")
@security.allow()
def logout() -> Any:
    with web.runtime().db.unit() as db_session:
        operators.logged_out(session=db_session, who=security.who())
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect(url_for("console.index"))


@blp.get("/accueil")
@security.allow()
def home() -> Any:
    """Where staff whose pages come in a later version land (editors, admins)."""
    return render_template("console/home.html")


# -- error pages: HTML in French, nothing of a report, never a traceback --------------------

ERRORS = {
    400: ("Requête non valide", "La demande n'a pas pu être comprise. Rechargez la page."),
    401: ("Connexion nécessaire", "Votre session a pris fin. Reconnectez-vous."),
    403: ("Accès refusé", "Votre rôle ne donne pas accès à cette page ou à cette action."),
    404: ("Page introuvable", "Cette page, ou ce signalement, n'existe pas."),
    405: ("Action non permise", "Cette adresse ne s'utilise pas ainsi."),
    409: ("Action impossible", "Cette action entre en conflit avec l'état actuel."),
    413: ("Formulaire trop long", "Le texte envoyé est trop long."),
    422: ("Formulaire non valide", "Une valeur du formulaire n'est pas valide."),
}


def error_page(status: int, message: str | None = None) -> Response:
    title, default = ERRORS.get(status, ("Erreur", "L'action n'a pas pu être faite."))
    body = render_template("console/error.html", title=title, message=message or default)
    return Response(body, status=status)


@blp.errorhandler(CSRFError)
def _csrf_refused(_error: CSRFError) -> Response:
    return error_page(
        400,
        "Le formulaire a expiré ou n'est pas valide (jeton de sécurité absent ou périmé). "
        "Rechargez la page et recommencez : rien n'a été modifié.",
    )


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return error_page(error.code or 500)


@blp.errorhandler(Problem)
def _problem(error: Problem) -> Response:
    return error_page(error.status if error.status < 500 else 500, french(error))


@blp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    log_failure(log, "unhandled error in the console", error)
    return error_page(500, "Une erreur inattendue s'est produite. Rien n'a été modifié.")

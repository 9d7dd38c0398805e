"""Who is logged in to the console, what each role may open, and the protections every page has.

- Flask-Login keeps the staff member in Flask's signed session cookie (`vigie_console`,
  path `/console/`, HttpOnly, SameSite=Lax, Secure outside development, gone when the
  browser closes). The user loader reads the account by public id on every request, so a
  disabled account (or a changed password) ends its sessions at once. Session protection
  is "strong": a cookie replayed from another address or browser is dropped.
- Idle timeout: 30 minutes without a page opened or a form sent (the queue's automatic
  refresh does not count) log the staff member out, checked on the server.
- CSRF: Flask-WTF's CSRFProtect checks the token of every POST to the console, and only
  there: the JSON API authenticates by bearer token and never reads a cookie.
- Every console response carries a Content-Security-Policy allowing only this origin
  (no inline script or style), `frame-ancestors 'none'`, and pages `Cache-Control: no-store`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, abort, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from vigie import clock, web
from vigie.audit.service import Who
from vigie.config import Config
from vigie.console.blueprint import blp
from vigie.credentials import ROLE_IMPLIES
from vigie.operators.models import Operator

F = TypeVar("F", bound=Callable[..., Any])

# What each page admits. A supervisor holds the operator role too (vigie.credentials).
TRIAGE = ("operator",)
SUPERVISE = ("supervisor",)
ANY_STAFF = ("operator", "supervisor", "editor", "admin")

IDLE_TIMEOUT = timedelta(minutes=30)
# Requests a page makes by itself (the queue's refresh): they do not keep a session alive.
PASSIVE_ENDPOINTS = frozenset({"console.queue_rows"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.session_protection = "strong"

ROLE_LABELS = {
    "operator": "Opérateur·rice",
    "supervisor": "Superviseur·e",
    "editor": "Éditeur·rice",
    "admin": "Administrateur·rice",
}


@dataclass(frozen=True)
class StaffUser:
    """The logged-in staff member, as Flask-Login's `current_user`."""

    id: int
    public_id: str
    name: str
    role: str
    stamp: str  # changes with the password: a new password ends the other sessions

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.public_id}.{self.stamp}"

    def has_role(self, *roles: str) -> bool:
        held = {self.role} | ROLE_IMPLIES.get(self.role, set())
        return bool(held & set(roles))

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def password_stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def user_of(operator: Operator) -> StaffUser:
    return StaffUser(
        id=operator.id,
        public_id=operator.public_id,
        name=operator.name,
        role=operator.role,
        stamp=password_stamp(operator.password_hash or ""),
    )


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    public_id, _, stamp = user_id.partition(".")
    with web.lookup() as connection:
        row = connection.execute(
            select(
                Operator.id,
                Operator.public_id,
                Operator.name,
                Operator.role,
                Operator.password_hash,
            ).where(Operator.public_id == public_id, Operator.disabled_at.is_(None))
        ).first()
    if row is None or row.password_hash is None or password_stamp(row.password_hash) != stamp:
        return None
    return StaffUser(row.id, row.public_id, row.name, row.role, stamp)


def logged_in() -> bool:
    return bool(current_user.is_authenticated)


def current() -> StaffUser:
    user: StaffUser = current_user._get_current_object()
    return user


def who() -> Who:
    """The logged-in staff member, with the request id, as the author of audit entries."""
    user = current()
    return Who(
        actor=user.public_id, role=user.role, request_id=g.get("request_id"), operator_id=user.id
    )


def allow(*roles: str) -> Callable[[F], F]:
    """The page admits staff holding one of `roles` (403 for the others); with no roles, any
    logged-in staff member. Anonymous visitors are sent to the login page."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return to_login()
            if roles and not current().has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.console_roles = roles or ANY_STAFF  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """The page is open to anyone (the login page, the console's CSS and script)."""
    view.console_roles = None  # type: ignore[attr-defined]
    return view


def to_login() -> Any:
    if request.endpoint in PASSIVE_ENDPOINTS:
        abort(401)
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("console.index", next=target))


def safe_next(target: str | None) -> str | None:
    """A redirect target after login: only a console path of this site."""
    if not target or not target.startswith("/console/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _idle_expired() -> bool:
    seen = session.get("seen")
    now = clock.now().timestamp()
    return not isinstance(seen, int | float) or now - seen > IDLE_TIMEOUT.total_seconds()


def mark_active() -> None:
    session["seen"] = clock.now().timestamp()


@blp.before_request
def _before_request() -> Any:
    if request.endpoint == "console.static":
        return None
    if any("\x00" in value for value in (*request.form.values(), *request.args.values())):
        abort(400)
    csrf.protect()  # POST, PUT, PATCH, DELETE without a valid token: 400, nothing done
    if not current_user.is_authenticated:
        return None
    if _idle_expired():
        logout_user()
        session.clear()
        flash("Votre session a expiré après 30 minutes sans activité. Reconnectez-vous.", "info")
        return to_login()
    if request.endpoint not in PASSIVE_ENDPOINTS:
        mark_active()
    return None


@blp.after_request
def _after_request(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, written only for the console's paths.

    Flask-Login looks at the session after every request of the app; Flask would then add
    `Vary: Cookie` to API responses (spoiling shared caches of the content feeds) although
    the API never uses a cookie. Outside `/console` the session is never saved.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path == "/console" or request.path.startswith("/console/"):
            super().save_session(app, session, response)


def _cookie_settings(config: Config) -> dict[str, Any]:
    secure = config.env != "development"
    return {
        "SESSION_COOKIE_NAME": "vigie_console",
        "SESSION_COOKIE_PATH": "/console/",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,  # never set ("remember me" is not offered)
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_PATH": "/console/",
        # CSRFProtect runs for the console only (below), never app-wide: the API has no cookie.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": int(IDLE_TIMEOUT.total_seconds()) * 2,
        "WTF_CSRF_SSL_STRICT": secure,
    }


def init_app(app: Flask, config: Config) -> None:
    app.config.update(_cookie_settings(config))
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)

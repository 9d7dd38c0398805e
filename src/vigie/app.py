"""The application factory."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response
from werkzeug.exceptions import RequestEntityTooLarge

from vigie import (
    auth,
    bodies,
    console,
    docs,
    errors,
    health,
    logs,
    metrics,
    openapi,
    problems,
    ratelimit,
    web,
)
from vigie.audit import views as audit
from vigie.config import Config, load_config
from vigie.content import views as content
from vigie.embed import views as embed
from vigie.errors import PROBLEM_JSON, Problem, ProblemSchema
from vigie.intake import views as intake
from vigie.reports import views as reports
from vigie.runtime import Runtime
from vigie.shelters import views as shelters
from vigie.stats import views as stats
from vigie.triage import views as triage
from vigie.webhooks import views as webhooks

log = logging.getLogger("vigie.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON_TYPES = ("application/json",)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


class UnsupportedMediaType(Problem):
    status, slug = 415, "unsupported-media-type"
    summary = "Unsupported media type"
    meaning = "The body was sent with a Content-Type this operation does not read."
    fix = "Send the body as JSON with the header Content-Type: application/json."


class VigieApi(Api):
    """flask-smorest's Api, with problem+json as the documented error format."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        import http

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_JSON
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: Exception) -> Any:  # replaced by errors.register
        raise error


def _flask_settings(config: Config) -> dict[str, Any]:
    docs = config.docs_enabled
    return {
        "API_TITLE": "Vigie",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_SWAGGER_UI_PATH": "docs" if docs else None,
        "OPENAPI_SWAGGER_UI_URL": "/static/swagger-ui/" if docs else None,
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "Vigie is the partner reporting API of MIPROF, France's national mission "
                    "against human trafficking. Errors are RFC 9457 problem documents; lists "
                    'use cursor pagination with a `Link: rel="next"` header.'
                ),
            },
            "servers": [{"url": "/"}],
        },
        "MAX_CONTENT_LENGTH": None,  # bodies.BodyLimit bounds every body, chunked ones too
        "SECRET_KEY": config.secret_key,
        "JSON_SORT_KEYS": False,
    }


def _start_request() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else secrets.token_hex(8)
    declared = request.content_length
    if declared is not None and declared > current_app.extensions["vigie.config"].max_body_bytes:
        raise RequestEntityTooLarge()  # said by its length: refused unread, on every path
    if request.method in ("POST", "PUT", "PATCH") and _has_body() and not _html_form():
        mimetype = request.mimetype
        if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
            raise UnsupportedMediaType("Send the body as application/json.")
    # No identifier may hold U+0000 (PostgreSQL's text type cannot). The body is not read
    # here: bodies.load_json refuses NUL when the view parses it, after authentication.
    if "\x00" in request.path:
        raise errors.NotFound("No such resource.")


def _html_form() -> bool:
    """The HTML pages (the embeddable form, the console) take HTML form posts, not JSON."""
    return request.blueprint in (embed.blp.name, console.BLUEPRINT)


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    if response.mimetype != "text/html":  # data, never a page: nothing may run or frame it
        response.headers.setdefault("Content-Security-Policy", API_POLICY)
    started = g.get("started")
    partner = g.get("partner")
    log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "partner": partner.public_id if partner else None,
        },
    )
    return response


def _blueprints() -> tuple[Blueprint, ...]:
    """Every API blueprint, in the order of the OpenAPI document."""
    return (
        health.blp,
        reports.vocabulary_blp,
        reports.blp,
        intake.blp,
        triage.blp,
        triage.referrals_blp,
        triage.network_blp,
        shelters.blp,
        audit.blp,
        stats.blp,
        content.blp,
        content.admin_blp,
        webhooks.blp,
    )


def _api(app: Flask) -> VigieApi:
    api = VigieApi(app, spec_kwargs={"extra_plugins": [openapi.Contract()]})
    app.extensions["vigie.api"] = api
    api.spec.components.security_scheme("partnerKey", auth.PARTNER_SCHEME)
    api.spec.components.security_scheme("staffToken", auth.OPERATOR_SCHEME)
    api.spec.components.security_scheme("networkKey", auth.NETWORK_SCHEME)
    for blueprint in _blueprints():
        api.register_blueprint(blueprint)
    return api


def create_app(config: Config | dict[str, Any] | None = None) -> Flask:
    """Build the WSGI app. `config` may be a Config or overrides of the loaded one."""
    if not isinstance(config, Config):
        config = load_config(config)
    logs.configure(config.log_level)
    app = Flask("vigie", static_folder=None)
    app.config.update(_flask_settings(config))
    app.wsgi_app = bodies.BodyLimit(app.wsgi_app, config.max_body_bytes)  # type: ignore[method-assign]
    app.extensions["vigie"] = Runtime.from_config(config)
    app.extensions["vigie.config"] = config
    _api(app)
    errors.register(app)
    web.init_app(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    metrics.init_app(app, config)  # /metrics for operators, off unless configured: not in OpenAPI
    ratelimit.init_app(app, config)  # counts per partner key and per client address
    embed.init_app(app, config)  # HTML pages, not API operations: not in the OpenAPI document
    console.init_app(app, config)  # HTML pages for staff, not API operations: not in OpenAPI
    problems.init_app(app)  # /problems/<slug>: what each problem type means, for people
    if config.webhook_allow_private:
        logging.getLogger("vigie.webhooks").warning(
            "VIGIE_WEBHOOK_ALLOW_PRIVATE is on: webhook URLs may point at loopback and private "
            "addresses on any port; development and tests only"
        )
    if config.docs_enabled:
        docs.register(app)
    return app

"""The embeddable report form's pages and the partner's button script (plain Flask views).

Every page says who may frame it: `Content-Security-Policy: frame-ancestors` lists exactly the
partner's embed origins, or `'none'`, and `default-src 'self'` keeps out any script, font or
style from elsewhere (the pages carry no script at all). Submissions are limited per client
address (flask-limiter, `form_submissions_per_minute`).
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, make_response, render_template, request
from werkzeug.exceptions import TooManyRequests

from vigie import ratelimit, web
from vigie.config import Config
from vigie.embed import forms, service, texts
from vigie.embed.forms import ReportForm
from vigie.errors import Invalid, NotFound
from vigie.partners.models import Partner

blp = Blueprint(
    "embed",
    __name__,
    url_prefix="/embed",
    template_folder="templates",
    static_folder="static",
    static_url_path="/_assets",  # "_" is never in a slug: no partner's form can hide it
)
LIMITER = "vigie.embed.limiter"
POLICY = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "
    "frame-ancestors {ancestors}"
)
# Stored origins were checked when set (partners/origins.py); this guards the header anyway.
HEADER_SAFE_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
SAME_SITE_FETCHES = ("same-origin", "none")
WINDOW_SECONDS = 60
FORM_POLICY = "form-submissions"


# -- set-up ----------------------------------------------------------------------------------


def init_app(app: Flask, config: Config) -> None:
    """Register the pages, their submissions limited by this app's limiter (`vigie.ratelimit`)."""
    limiter = ratelimit.of(app).limiter
    if config.ratelimit_enabled:
        per_minute = config.form_submissions_per_minute
        limiter.limit(f"{per_minute} per minute", methods=["POST"])(blp)
        # Its check runs before the form's pages only, not before every API request (the
        # extension's app-wide hooks cost ~60 µs a request; ratelimit.init_app leaves them out).
        app.before_request_funcs.setdefault(blp.name, []).append(limiter._check_request_limit)
    app.extensions[LIMITER] = limiter
    app.register_blueprint(blp)


# -- helpers ---------------------------------------------------------------------------------


def _lang() -> str:
    return texts.language(request.args.get("lang"))


def _partner(slug: str) -> Partner | None:
    try:
        return service.form_partner(session=web.session(), slug=slug)
    except NotFound:
        return None


def _ancestors(partner: Partner | None) -> str:
    origins = [o for o in (partner.embed_origins if partner else []) if HEADER_SAFE_ORIGIN.match(o)]
    return " ".join(origins) or "'none'"


def _page(
    template: str, status: int, *, lang: str, partner: Partner | None, **context: Any
) -> Response:
    body = render_template(
        template,
        lang=lang,
        page=texts.PAGE[lang],
        partner=partner,
        other_lang=texts.PAGE[lang]["switch_lang"],
        **context,
    )
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = POLICY.format(ancestors=_ancestors(partner))
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found(lang: str) -> Response:
    return _page("embed/problem.html", 404, lang=lang, partner=None, problem="not_found")


def _bad_token(partner: Partner, lang: str) -> Response:
    return _page("embed/problem.html", 400, lang=lang, partner=partner, problem="bad_token")


def _form_page(
    form: ReportForm,
    partner: Partner,
    lang: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    expired: bool = False,
) -> Response:
    shown = forms.messages(errors or {}, lang)
    return _page(
        "embed/report.html",
        status,
        lang=lang,
        partner=partner,
        form=form,
        fields=texts.FIELDS[lang],
        errors=shown,
        summary=forms.summary(form, shown),
        expired=expired,
        any_codes=forms.ANY_INDICATORS,
        stay_codes=forms.STAY_INDICATORS,
        attrs=forms.input_attrs,
    )


def _from_another_site() -> bool:
    """The browser says the POST came from another site's page (a forged submission)."""
    site = request.headers.get("Sec-Fetch-Site")
    return site is not None and site not in SAME_SITE_FETCHES


# -- pages -----------------------------------------------------------------------------------


@blp.get("/<partner_slug>/report")
def report_form(partner_slug: str) -> Response:
    lang = _lang()
    partner = _partner(partner_slug)
    if partner is None:
        return _not_found(lang)
    return _form_page(ReportForm.for_partner(partner.slug, lang, formdata=None), partner, lang)


@blp.post("/<partner_slug>/report")
def report_submit(partner_slug: str) -> Response:
    lang = _lang()
    partner = _partner(partner_slug)
    if partner is None:
        return _not_found(lang)
    form = ReportForm.for_partner(partner.slug, lang, formdata=request.form)  # never JSON
    form.validate()
    failure = forms.csrf_failure(form)
    if failure == forms.CSRF_INVALID or _from_another_site():
        return _bad_token(partner, lang)
    if failure == forms.CSRF_EXPIRED:  # our own token, only too old: keep what was typed
        return _form_page(form, partner, lang, status=400, expired=True)
    return _store(form, partner, lang)


def _store(form: ReportForm, partner: Partner, lang: str) -> Response:
    """Check the report as the API would; store it, or show the form again with each error."""
    errors = {**forms.form_errors(form), **forms.parse_errors(form)}
    data: dict[str, Any] | None = None
    try:
        data = service.check(forms.to_canonical(form, lang=lang, reference=f"form-{form.nonce}"))
    except Invalid as invalid:
        errors = {**forms.field_errors(invalid.errors or []), **errors}
    if errors or data is None:
        return _form_page(form, partner, lang, status=422, errors=errors)
    rt, session = web.runtime(), web.session()
    report, created = service.submit(
        session=session, crypto=rt.crypto, partner_id=partner.id, data=data
    )
    session.commit()
    return _page(
        "embed/confirmation.html",
        201 if created else 200,
        lang=lang,
        partner=partner,
        report=report,
        created=created,
        guidance=report.guidance,
    )


@blp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> Response:
    """Over the limit: a page in the form's language, with Retry-After."""
    lang = _lang()
    slug = (request.view_args or {}).get("partner_slug", "")
    current = current_app.extensions[LIMITER].current_limit
    window = current.limit.get_expiry() if current else WINDOW_SECONDS
    seconds = min(window, max(1, math.ceil(current.reset_at - time.time()))) if current else window
    response = _page(
        "embed/problem.html",
        429,
        lang=lang,
        partner=_partner(slug),
        problem="too_many",
        seconds=seconds,
    )
    response.headers["Retry-After"] = str(seconds)
    if current is not None:  # the IETF fields, as on the API's answers (vigie.ratelimit)
        policy = ratelimit.Policy(FORM_POLICY, current.limit.amount, window)
        response.headers["RateLimit-Policy"] = policy.header
        response.headers["RateLimit"] = ratelimit.Usage(policy, 0, seconds).header
    return response


@blp.get("/<partner_slug>/button.js")
def button(partner_slug: str) -> Response:
    """The script a partner pastes to open its form in a dialog (docs/partners.md)."""
    partner = _partner(partner_slug)
    if partner is None:
        body, status = "/* Vigie: no report form at this address. */\n", 404
    else:
        labels = {
            lang: {k: texts.PAGE[lang][k] for k in ("button", "close", "dialog_title")}
            for lang in texts.LANGUAGES
        }
        body = render_template(
            "embed/button.js",
            labels=labels,
            default_lang=texts.DEFAULT_LANGUAGE,
            form_path=f"{blp.url_prefix}/{partner.slug}/report",
        )
        status = 200
    response = make_response(body, status)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "public, max-age=300"
    # Loaded by the partner's pages from another origin, even under their COEP.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response

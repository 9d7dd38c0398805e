"""The report form (WTForms): fields, its CSRF token, and the way to and from the canonical report.

The form only parses what the browser sends (dates, numbers, ticked boxes); the rules are the
canonical report's (`ReportSchema`), whose errors `field_errors` maps back to the form's fields.

CSRF: the form is framed on a partner's site, a third-party context where browsers block our
cookies, so a token tied to a session cookie would fail there. The token is stateless instead:
signed with the app's secret key, valid `TOKEN_MAX_AGE`, bound to the form's slug, and carrying
a random nonce that becomes the report's `partner_reference`, so sending the same page twice
(a double click, a reload) stores one report. The view also refuses a POST that the browser
says came from another site (`Sec-Fetch-Site`), which a stateless token alone cannot tell.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from marshmallow.fields import Field
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.csrf.core import CSRF
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from vigie import clock
from vigie.embed.texts import CONTEXTS, FIELDS, GENERAL_ERROR, HOST_ROLES, PAGE
from vigie.reports.vocabulary import EXPLOITATION, INDICATORS, REPORTER_ROLES

PARIS = ZoneInfo("Europe/Paris")
TOKEN_MAX_AGE = timedelta(hours=4)
MAX_AGE_SECONDS = int(TOKEN_MAX_AGE.total_seconds())
TOKEN_SALT = "vigie.embed.report-form"  # noqa: S105 - a salt names the use, it is no secret
CSRF_EXPIRED, CSRF_INVALID = "expired", "invalid"
MISSING = Field.default_error_messages[
    "required"
]  # marshmallow's "Missing data for required field."
FORM_INDICATORS = tuple(i for i in INDICATORS if i.context in ("any", "stay"))
ANY_INDICATORS = frozenset(i.code for i in FORM_INDICATORS if i.context == "any")
STAY_INDICATORS = frozenset(i.code for i in FORM_INDICATORS if i.context == "stay")

# Where each canonical field is on the form: the longest matching prefix wins.
CANONICAL_TO_FORM: dict[str, str] = {
    "context": "context",
    "observed_at": "observed_date",
    "location": "postcode",
    "location.commune": "commune",
    "stay": "listing_reference",
    "stay.listing_reference": "listing_reference",
    "stay.booking_reference": "booking_reference",
    "stay.check_in": "check_in",
    "stay.check_out": "check_out",
    "stay.guest_count": "guest_count",
    "indicators": "indicators",
    "suspected_exploitation": "exploitation",
    "persons": "persons_count",
    "persons.minors": "minors",
    "persons.in_immediate_danger": "danger",
    "description": "description",
    "reporter": "reporter_role",
    "reporter.contact": "contact_consent",
    "reporter.contact_consent": "contact_consent",
    "reporter.contact.name": "contact_name",
    "reporter.contact.phone": "contact_phone",
    "reporter.contact.email": "contact_email",
}
GENERAL = "_form"  # an error the form has no field for (shown in the summary only)


class _ClockSigner(TimestampSigner):
    """Timestamps from the application's clock, so tests can let a token expire."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(secret: str | bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT, signer=_ClockSigner)


class SignedTokenCSRF(CSRF):
    """A stateless CSRF token: signed, time-limited, bound to the form's slug (its context)."""

    def setup_form(self, form: Any) -> Any:
        self.meta = form.meta
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        payload = {"s": self.meta.csrf_context, "n": secrets.token_urlsafe(12)}
        return str(_serializer(self.meta.csrf_secret).dumps(payload))

    def validate_csrf_token(self, form: Any, field: Any) -> None:
        serializer = _serializer(self.meta.csrf_secret)
        expired = False
        try:
            payload = serializer.loads(field.data or "", max_age=MAX_AGE_SECONDS)
        except SignatureExpired as exc:  # well signed, too old (the signature was checked)
            if exc.payload is None:
                raise ValidationError(CSRF_INVALID) from None
            payload, expired = serializer.load_payload(exc.payload), True
        except BadSignature:
            raise ValidationError(CSRF_INVALID) from None
        if not isinstance(payload, dict) or payload.get("s") != self.meta.csrf_context:
            raise ValidationError(CSRF_INVALID)
        if expired:
            raise ValidationError(CSRF_EXPIRED)
        field.nonce = str(payload["n"])


class MultiCheckboxField(SelectMultipleField):
    """Several codes, each a checkbox."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _no_nul(form: Any, field: Any) -> None:
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError("nul")


def _text(max_length: int) -> StringField:
    return StringField(
        validators=[Optional(), _no_nul], filters=[_strip], render_kw={"maxlength": max_length}
    )


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%Hh%M"]


class ReportForm(FlaskForm):
    """The host's report. Build it with `ReportForm.for_partner(slug, lang)`."""

    class Meta:
        csrf = True
        csrf_class = SignedTokenCSRF
        csrf_field_name = "csrf_token"

    context = RadioField(validators=[Optional()])
    observed_date = DateField(format=DATE_FORMATS, validators=[Optional()])
    observed_time = TimeField(format=TIME_FORMATS, validators=[Optional()])
    postcode = _text(10)
    commune = _text(120)
    listing_reference = _text(256)
    booking_reference = _text(256)
    check_in = DateField(format=DATE_FORMATS, validators=[Optional()])
    check_out = DateField(format=DATE_FORMATS, validators=[Optional()])
    guest_count = IntegerField(widget=TextInput(), validators=[Optional()])
    indicators = MultiCheckboxField(validators=[Optional()])
    exploitation = MultiCheckboxField(validators=[Optional()])
    persons_count = IntegerField(widget=TextInput(), validators=[Optional()])
    minors = IntegerField(widget=TextInput(), validators=[Optional()])
    danger = RadioField(validators=[Optional()])
    description = TextAreaField(validators=[Optional(), _no_nul], render_kw={"maxlength": 5000})
    reporter_role = RadioField(default="host", validators=[Optional()])
    contact_consent = BooleanField()
    contact_name = _text(200)
    contact_phone = _text(32)
    contact_email = _text(254)

    @classmethod
    def for_partner(cls, slug: str, lang: str, **kwargs: Any) -> ReportForm:
        """The form for one partner's slug (the CSRF token's binding), labelled in `lang`."""
        form = cls(meta={"csrf_context": slug}, **kwargs)
        form.context.choices = list(CONTEXTS[lang].items())
        form.indicators.choices = [(i.code, getattr(i, lang)) for i in FORM_INDICATORS]
        form.exploitation.choices = [(e.code, getattr(e, lang)) for e in EXPLOITATION]
        form.danger.choices = [("yes", PAGE[lang]["yes"]), ("no", PAGE[lang]["no"])]
        roles = {r.code: getattr(r, lang) for r in REPORTER_ROLES}
        form.reporter_role.choices = [(code, roles[code]) for code in HOST_ROLES]
        return form

    @property
    def nonce(self) -> str:
        """The validated token's nonce (only after `validate()` accepted the token)."""
        return str(self.csrf_token.nonce)


def csrf_failure(form: ReportForm) -> str | None:
    """`expired`, `invalid` or None when the token was accepted."""
    errors = form.csrf_token.errors
    if not errors:
        return None
    return CSRF_EXPIRED if list(errors) == [CSRF_EXPIRED] else CSRF_INVALID


def parse_errors(form: ReportForm) -> dict[str, str]:
    """Fields the browser sent in a form we could not read (not a date, not a number...)."""
    return {name: "invalid" for name, errors in form.errors.items() if name != "csrf_token"}


def _observed_at(day: date | None, at: time | None) -> str | None:
    if day is None or at is None:
        return None
    return datetime.combine(day, at, tzinfo=PARIS).isoformat()


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries that have a value (a missing one is the canonical schema's to name)."""
    return {k: v for k, v in values.items() if v is not None and v != "" and v != []}


def _distinct(codes: list[str] | None) -> list[str]:
    return list(dict.fromkeys(codes or []))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _contact(form: ReportForm) -> dict[str, Any]:
    return _present(
        {
            "name": form.contact_name.data,
            "phone": form.contact_phone.data,
            "email": form.contact_email.data,
        }
    )


def to_canonical(form: ReportForm, *, lang: str, reference: str) -> dict[str, Any]:
    """The canonical report (as JSON would carry it) from what the form could read."""
    danger = {"yes": True, "no": False}.get(form.danger.data or "")
    report = _present(
        {
            "partner_reference": reference,
            "context": form.context.data,
            "observed_at": _observed_at(form.observed_date.data, form.observed_time.data),
            "location": _present(
                {"country": "FR", "postcode": form.postcode.data, "commune": form.commune.data}
            ),
            "indicators": _distinct(form.indicators.data),
            "suspected_exploitation": _distinct(form.exploitation.data),
            "persons": _present(
                {
                    "count": form.persons_count.data,
                    "minors": form.minors.data,
                    "in_immediate_danger": danger,
                }
            ),
            "description": form.description.data or "",
            "language": lang,
        }
    )
    if form.context.data == "stay":
        report["stay"] = _present(
            {
                "listing_reference": form.listing_reference.data,
                "booking_reference": form.booking_reference.data,
                "check_in": _iso(form.check_in.data),
                "check_out": _iso(form.check_out.data),
                "guest_count": form.guest_count.data,
            }
        )
    contact = _contact(form)
    report["reporter"] = _present(
        {
            "role": form.reporter_role.data,
            "contact_consent": bool(form.contact_consent.data),
            "contact": contact or None,
        }
    )
    return report


def form_errors(form: ReportForm) -> dict[str, str]:
    """The form's own rules, about how its fields go together.

    The date and the time are one canonical field: each is named when it is the one missing.
    Contact details are kept only with consent, and consent needs a way to reach the person:
    details without the box ticked are an error beside the box (never dropped silently, the
    person may believe we will call back); a ticked box needs a phone number or an address.
    """
    found: dict[str, str] = {}
    for name in ("observed_date", "observed_time"):
        if not form[name].raw_data or not form[name].raw_data[0]:
            found[name] = "required"
    contact = _contact(form)
    if contact and not form.contact_consent.data:
        found["contact_consent"] = "invalid"
    elif form.contact_consent.data and not (contact.get("phone") or contact.get("email")):
        found["contact_consent"] = "required"
    return found


def _form_field(path: str) -> str:
    """The form field of a canonical field path (`stay.check_out`, `indicators[2]`)."""
    plain = path.split("[", 1)[0]
    while plain:
        if plain in CANONICAL_TO_FORM:
            return CANONICAL_TO_FORM[plain]
        plain = plain.rpartition(".")[0]
    return GENERAL


def field_errors(canonical_errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Canonical field errors (`{"field", "detail"}`) as form field -> `required` | `invalid`."""
    found: dict[str, str] = {}
    for error in canonical_errors:
        name = _form_field(str(error.get("field", "")))
        kind = "required" if error.get("detail") == MISSING else "invalid"
        found.setdefault(name, kind)
    return found


def messages(errors: Mapping[str, str], lang: str) -> dict[str, str]:
    """Each field's error as the sentence shown beside it, in the form's language."""
    shown: dict[str, str] = {}
    for name, kind in errors.items():
        if name == GENERAL:
            shown[name] = GENERAL_ERROR[lang]
            continue
        text = FIELDS[lang][name]
        shown[name] = text.required if kind == "required" and text.required else text.invalid
    return shown


def _anchor(field: Any) -> str:
    """Where the summary's link for a field goes: the input, or a group's first choice."""
    if isinstance(field, RadioField | SelectMultipleField):
        return f"{field.id}-0"
    return str(field.id)


def summary(form: ReportForm, shown: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """The errors as (message, anchor) in the order of the page, the general one first."""
    items: list[tuple[str, str | None]] = []
    if GENERAL in shown:
        items.append((shown[GENERAL], None))
    items.extend((shown[f.name], _anchor(f)) for f in form if f.name in shown)
    return items


def input_attrs(field_id: str, *, hint: bool, error: bool, **extra: Any) -> dict[str, Any]:
    """An input's attributes: its hint and error as its description, and aria-invalid."""
    described = [f"{field_id}-hint"] if hint else []
    if error:
        described.append(f"{field_id}-error")
        extra["aria-invalid"] = "true"
    if described:
        extra["aria-describedby"] = " ".join(described)
    return extra

"""Editor input, partner query parameters, and the documented output shapes."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from vigie.content import locales, render
from vigie.content.models import STATUSES
from vigie.pagination import PageArgsSchema
from vigie.reports.vocabulary import EXPLOITATION_CODES
from vigie.validators import in_range, instant

AUDIENCES = ("hosts", "hotel_staff", "travellers", "cabin_crew", "ground_staff", "general_public")
KINDS = ("guide", "checklist", "poster", "briefing", "announcement", "video")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
MIME = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]{0,99}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


PHONE = re.compile(r"^\+?[0-9][0-9 ]{1,19}$")
DEFAULT_PAGE = 20


def _distinct(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Values must be distinct.")


def _locale_key(value: str) -> None:
    try:
        locales.canonical(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class MediaSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=2000))
    mime_type = fields.String(required=True, validate=validate.Regexp(MIME))
    alt = fields.String(required=True, validate=validate.Length(1, 300))
    bytes = fields.Integer(strict=True, validate=validate.Range(0, 10**10))
    sha256 = fields.String(validate=validate.Regexp(SHA256, error="64 lower-case hex digits."))


class CallToActionSchema(Schema):
    """Either an emergency number to call or a link."""

    label = fields.String(required=True, validate=validate.Length(1, 120))
    phone = fields.String(validate=validate.Regexp(PHONE), metadata={"example": "17"})
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2000))

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        if ("phone" in data) == ("url" in data):
            raise ValidationError("Give exactly one of phone or url.", "phone")


class TranslationSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(1, 200))
    summary = fields.String(required=True, validate=validate.Length(1, 1000))
    body_markdown = fields.String(required=True, validate=validate.Length(1, 50_000))
    media = fields.List(fields.Nested(MediaSchema), validate=validate.Length(max=20))
    call_to_action = fields.Nested(CallToActionSchema, allow_none=True)


def _canonical_translations(data: dict[str, Any], **_: Any) -> dict[str, Any]:
    if data.get("translations"):
        data["translations"] = {
            locales.canonical(tag): value for tag, value in data["translations"].items()
        }
    return data


class ContentInSchema(Schema):
    """An item as editors write it (also the shape of `vigie content load` files)."""

    key = fields.String(
        validate=validate.Regexp(KEY),
        metadata={"description": "Optional stable name used by imports (unique)."},
    )
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    audiences = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        required=True,
        validate=[validate.Length(1, len(AUDIENCES)), _distinct],
    )
    exploitation = fields.List(
        fields.String(validate=validate.OneOf(EXPLOITATION_CODES)),
        load_default=list,
        validate=_distinct,
    )
    campaigns = fields.List(
        fields.String(validate=validate.Regexp(SLUG)),
        load_default=list,
        validate=[validate.Length(max=10), _distinct],
    )
    expires_at = fields.AwareDateTime(
        format="iso", allow_none=True, load_default=None, validate=in_range
    )
    translations = fields.Dict(
        keys=fields.String(validate=_locale_key),
        values=fields.Nested(TranslationSchema),
        required=True,
        validate=validate.Length(min=1, max=40),
    )

    @post_load
    def _canonical(self, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return _canonical_translations(data)


class ContentPatchSchema(Schema):
    """Fields to change in the draft; `translations` merges by locale (null removes one)."""

    kind = fields.String(validate=validate.OneOf(KINDS))
    audiences = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        validate=[validate.Length(1, len(AUDIENCES)), _distinct],
    )
    exploitation = fields.List(
        fields.String(validate=validate.OneOf(EXPLOITATION_CODES)), validate=_distinct
    )
    campaigns = fields.List(
        fields.String(validate=validate.Regexp(SLUG)),
        validate=[validate.Length(max=10), _distinct],
    )
    expires_at = fields.AwareDateTime(format="iso", allow_none=True, validate=in_range)
    translations = fields.Dict(
        keys=fields.String(validate=_locale_key),
        values=fields.Nested(TranslationSchema, allow_none=True),
        validate=validate.Length(min=1, max=40),
    )

    @post_load
    def _canonical(self, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return _canonical_translations(data)


class EditorListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))


class ContentQuerySchema(PageArgsSchema):
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, 100))
    audience = fields.String(validate=validate.OneOf(AUDIENCES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    campaign = fields.String(validate=validate.Regexp(SLUG, error="Not a campaign tag."))
    locale = fields.String(
        validate=validate.Regexp(locales.BCP47, error="Not a BCP 47 language tag."),
        metadata={"description": "Wins over Accept-Language. Fallback: fr, then en."},
    )
    updated_since = instant(
        metadata={
            "description": "Only items changed after this instant, with tombstones for "
            "retired or expired ones. Pass the largest updated_at you hold."
        },
    )


class FeedQuerySchema(Schema):
    audience = fields.String(validate=validate.OneOf(AUDIENCES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    campaign = fields.String(validate=validate.Regexp(SLUG, error="Not a campaign tag."))
    locale = fields.String(
        validate=validate.Regexp(locales.BCP47, error="Not a BCP 47 language tag.")
    )


class ItemQuerySchema(Schema):
    locale = fields.String(
        validate=validate.Regexp(locales.BCP47, error="Not a BCP 47 language tag.")
    )


# -- output (documentation of what the views send) ------------------------------


class LinksSchema(Schema):
    self = fields.String()


class TranslationOutSchema(TranslationSchema):
    body_html = fields.String(metadata={"description": "Sanitised rendering of body_markdown."})


class _Previewed(fields.Dict):
    """The draft's translations, dumped with their rendering preview (`body_html`)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        shown = None if value is None else render.previews(value)
        return super()._serialize(shown, attr, obj, **kwargs)


class EditorItemSchema(Schema):
    """A ContentItem as editors see it: the draft (with a preview) and the published state."""

    id = fields.String(attribute="public_id", metadata={"example": "cnt_mfrggzdfmztwq2lk"})
    key = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    version = fields.Integer()
    pending_changes = fields.Boolean(
        metadata={"description": "The draft differs from what partners see."}
    )
    kind = fields.String(attribute="draft.kind")
    audiences = fields.List(fields.String(), attribute="draft.audiences")
    exploitation = fields.List(fields.String(), attribute="draft.exploitation")
    campaigns = fields.List(fields.String(), attribute="draft.campaigns")
    expires_at = fields.String(allow_none=True, attribute="draft.expires_at")
    translations = _Previewed(
        keys=fields.String(),
        values=fields.Nested(TranslationOutSchema),
        attribute="draft.translations",
    )
    created_at = fields.AwareDateTime(format="iso")
    edited_at = fields.AwareDateTime(format="iso")
    published_at = fields.AwareDateTime(format="iso", allow_none=True)
    updated_at = fields.AwareDateTime(format="iso", allow_none=True)
    retired_at = fields.AwareDateTime(format="iso", allow_none=True)
    links = fields.Nested(LinksSchema, attribute="editor_links")


class PartnerItemSchema(Schema):
    """A published item in one locale, or (with updated_since) a tombstone.

    A tombstone has only `id`, `status` (`retired` or `expired`) and `updated_at`:
    drop your copy of the item.
    """

    id = fields.String(metadata={"example": "cnt_mfrggzdfmztwq2lk"})
    status = fields.String(metadata={"enum": ["published", "retired", "expired"]})
    version = fields.Integer()
    kind = fields.String(metadata={"enum": list(KINDS)})
    audiences = fields.List(fields.String(metadata={"enum": list(AUDIENCES)}))
    exploitation = fields.List(fields.String())
    campaigns = fields.List(fields.String())
    locale = fields.String(metadata={"description": "The locale served.", "example": "fr"})
    available_locales = fields.List(fields.String())
    title = fields.String()
    summary = fields.String()
    body_html = fields.String()
    media = fields.List(fields.Nested(MediaSchema))
    call_to_action = fields.Nested(CallToActionSchema, allow_none=True)
    published_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")
    expires_at = fields.AwareDateTime(format="iso", allow_none=True)
    links = fields.Nested(LinksSchema)


# -- webhook events: the `data` partners receive (OpenAPI `webhooks`, see vigie.openapi) --


class ContentRetiredDataSchema(Schema):
    """`data` of `content.retired`, written by `service.retire`: drop your copy."""

    id = fields.String(required=True, metadata={"example": "cnt_mfrggzdfmztwq2lk"})
    version = fields.Integer(required=True)
    updated_at = fields.AwareDateTime(format="iso", required=True)
    links = fields.Nested(LinksSchema, required=True)


class ContentPublishedDataSchema(ContentRetiredDataSchema):
    """`data` of `content.published`, written by `service.publish`: fetch `links.self`."""

    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    audiences = fields.List(fields.String(metadata={"enum": list(AUDIENCES)}), required=True)
    locales = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The locales it is published in", "example": ["en", "fr"]},
    )

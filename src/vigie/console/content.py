"""Contenus: the editors' awareness content — the list, each translation's Markdown with a
preview, publishing and retiring. Editors only; nothing here reads a report.

Each action is the content admin API's operation (`/v1/admin/content`) with the same service
function and schema: saving a translation is a PATCH merging that one locale
(`ContentPatchSchema`, `service.update`), publishing and retiring are `service.publish` and
`service.retire` (they emit `content.published` and `content.retired` to the outbox), and a
change partners can see forgets this worker's cached feeds, as the API view does. The preview
is `content.render.to_html`, the sanitiser that makes what partners receive.
"""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from flask import render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from vigie import web
from vigie.console import forms, security
from vigie.console.blueprint import blp
from vigie.console.messages import french
from vigie.content import http_cache, render
from vigie.content import service as content
from vigie.content.models import ContentItem
from vigie.content.schemas import ContentPatchSchema
from vigie.errors import Problem

EDITORS = ("editor",)
PAGE_SIZE = 50
TEXT_FIELDS = ("title", "summary", "body_markdown")
CONTENT_STATUSES = {"draft": "Brouillon", "published": "Publié", "retired": "Retiré"}
KINDS = {
    "guide": "Guide",
    "checklist": "Liste de vérification",
    "poster": "Affiche",
    "briefing": "Consigne",
    "announcement": "Annonce",
    "video": "Vidéo",
}
AUDIENCES = {
    "hosts": "hôtes",
    "hotel_staff": "personnel hôtelier",
    "travellers": "voyageurs",
    "cabin_crew": "personnel navigant",
    "ground_staff": "personnel au sol",
    "general_public": "grand public",
}
BAD_CURSOR = "Le lien de page n'est plus valide ; la liste est affichée depuis le début."


def language(tag: str) -> str:
    """A locale's name in French (`en` → anglais), or the tag itself when babel has none."""
    try:
        return Locale.parse(tag, sep="-").get_display_name("fr") or tag
    except (UnknownLocaleError, ValueError):
        return tag


def _tables() -> dict[str, Any]:
    return {
        "CONTENT_STATUSES": CONTENT_STATUSES,
        "CONTENT_KINDS": KINDS,
        "AUDIENCES": AUDIENCES,
        "language": language,
        "french_first": french_first,
    }


def french_first(tags: Any) -> list[str]:
    """Locales with French first (the one publishing requires), then by tag."""
    return sorted(tags, key=lambda tag: (tag != "fr", tag))


@blp.get("/contents")
@security.allow(*EDITORS)
def contents_page() -> Any:
    session, errors = web.session(), []
    cursor = request.args.get("cursor") or None
    try:
        page = content.list_(session=session, status=None, limit=PAGE_SIZE, cursor=cursor)
    except Problem:  # a stale or edited cursor: start from the top, and say so
        errors.append(BAD_CURSOR)
        page = content.list_(session=session, status=None, limit=PAGE_SIZE, cursor=None)
    following = page.next_cursor
    next_url = url_for("console.contents_page", cursor=following) if following else None
    return render_template(
        "console/contents.html", items=page.items, errors=errors, next_url=next_url, **_tables()
    )


def _item_page(item: ContentItem, editing: dict[str, Any] | None = None, status: int = 200) -> Any:
    """The item's page; `editing` is a translation form sent back (its preview, its error)."""
    drafts = render.previews(item.draft["translations"])
    body = render_template(
        "console/content_item.html",
        item=item,
        drafts=drafts,
        locales=french_first(drafts),
        editing=editing or {},
        **_tables(),
    )
    return body, status


@blp.get("/contents/<string:item_id>")
@security.allow(*EDITORS)
def content_page(item_id: str) -> Any:
    return _item_page(content.get(session=web.session(), item_id=item_id))


def _translation(item: ContentItem, locale: str) -> dict[str, Any]:
    """The submitted texts of one locale, with the media and call to action it already had
    (the console edits the texts; the rest stays as the API wrote it)."""
    kept = item.draft["translations"].get(locale, {})
    sent: dict[str, Any] = {name: forms.text(request.form, name) for name in TEXT_FIELDS}
    for name in ("media", "call_to_action"):
        if kept.get(name) is not None:
            sent[name] = kept[name]
    return sent


def _form_again(
    item: ContentItem, locale: str, sent: dict[str, Any], *, preview: bool
) -> tuple[Any, dict[str, Any] | None]:
    """Parse one translation form as the API's PATCH would. When it is invalid, or only a
    preview was asked, the page again with the form as typed (nothing saved); else the data."""
    editing: dict[str, Any] = {"locale": locale, "values": sent}
    try:
        data: dict[str, Any] = ContentPatchSchema().load({"translations": {locale: sent}})
    except ValidationError as error:
        editing["error"] = french(error)
        return _item_page(item, editing, 422), None
    if not preview:
        return None, data
    canonical = next(iter(data["translations"]))
    editing["locale"] = canonical
    editing["preview"] = render.to_html(data["translations"][canonical]["body_markdown"])
    return _item_page(item, editing), None


@blp.post("/contents/<string:item_id>/translation")
@security.allow(*EDITORS)
def content_translation(item_id: str) -> Any:
    """Save one translation's texts (button Enregistrer) or only preview them (Prévisualiser)."""
    item = content.get(session=web.session(), item_id=item_id)
    locale = forms.text(request.form, "locale") or ""
    sent = _translation(item, locale)
    page, data = _form_again(item, locale, sent, preview=request.form.get("action") == "preview")
    if data is None:
        return page

    def run(session: Session) -> str:
        content.update(
            session=session, item_id=item_id, data=data, operator_id=security.current().id
        )
        shown = next(iter(data["translations"]))
        return (
            f"Traduction « {language(shown)} » enregistrée dans le brouillon. "
            "Les partenaires ne la verront qu'après publication."
        )

    return forms.act(url_for("console.content_page", item_id=item_id), run)


@blp.post("/contents/<string:item_id>/publish")
@security.allow(*EDITORS)
def content_publish(item_id: str) -> Any:
    changed: list[bool] = []

    def run(session: Session) -> str:
        item, did = content.publish(
            session=session, item_id=item_id, operator_id=security.current().id
        )
        changed.append(did)
        if not did:
            return "Rien à publier : les partenaires voient déjà ce brouillon."
        return f"Contenu publié (version {item.version}) : les partenaires le reçoivent."

    return forms.act(
        url_for("console.content_page", item_id=item_id), run, after=lambda: _forget(changed)
    )


@blp.post("/contents/<string:item_id>/retire")
@security.allow(*EDITORS)
def content_retire(item_id: str) -> Any:
    changed: list[bool] = []

    def run(session: Session) -> str:
        _, did = content.retire(session=session, item_id=item_id, operator_id=security.current().id)
        changed.append(did)
        if not did:
            return "Ce contenu était déjà retiré."
        return "Contenu retiré : les partenaires reçoivent l'avis de retrait."

    return forms.act(
        url_for("console.content_page", item_id=item_id), run, after=lambda: _forget(changed)
    )


def _forget(changed: list[bool]) -> None:
    """A change partners can see: this worker's cached feeds are stale (as in the API view)."""
    if any(changed):
        http_cache.changed()

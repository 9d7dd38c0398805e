"""Partner reading (content:read) and the editors' workflow (role editor).

Partner reads are cached HTTP representations (see http_cache.py); editor operations
answer with the ContentItem, dumped by EditorItemSchema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from flask.views import MethodView

from vigie import auth, clock, web
from vigie.content import catalogue as cat
from vigie.content import feeds, http_cache, locales, service
from vigie.content.examples import CONTENT_EXAMPLE, PROBLEM_NO_FRENCH
from vigie.content.schemas import (
    ContentInSchema,
    ContentPatchSchema,
    ContentQuerySchema,
    EditorItemSchema,
    EditorListArgsSchema,
    FeedQuerySchema,
    ItemQuerySchema,
    PartnerItemSchema,
)
from vigie.errors import NotFound, Problem
from vigie.pagination import next_link
from vigie.web import Blueprint

blp = Blueprint(
    "content", __name__, url_prefix="/v1/content", description="Awareness content for partners"
)
admin_blp = Blueprint(
    "content-admin",
    __name__,
    url_prefix="/v1/admin/content",
    description="Awareness content: editors' drafts, publishing and retiring",
)
blp.before_request(http_cache.answer_from_memory)

ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"
VALIDATOR_HEADERS = {
    "ETag": {
        "description": "Strong validator of this representation.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {"description": "Last change to the content.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=...", "schema": {"type": "string"}},
    "Content-Language": {"description": "Locale(s) served.", "schema": {"type": "string"}},
}
CONDITIONAL_PARAMETERS = [
    {
        "in": "header",
        "name": name,
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }
    for name, description in (
        ("If-None-Match", "ETag of your copy: 304 without a body if it is current."),
        ("If-Modified-Since", "HTTP date of your copy (ignored when If-None-Match is sent)."),
        ("Accept-Language", "Preferred locales with quality values; `locale=` wins."),
    )
]
NOT_MODIFIED = "Not modified: your copy is current (no body)."
LIST_HEADERS = {
    **VALIDATOR_HEADERS,
    "Link": {"description": 'Next page: <url>; rel="next"', "schema": {"type": "string"}},
}


# A JSON Feed is a JSON object (https://www.jsonfeed.org/version/1.1/), not a string.
JSON_FEED_SCHEMA = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"type": "string", "example": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}


class Gone(Problem):
    status, slug = 410, "gone"
    summary = "Content gone"
    meaning = "The content item was retired or has expired: it is no longer published."
    fix = "Delete your copy of the item; the content feeds list it as a tombstone too."


def _base_url() -> str:
    configured: str = web.runtime().config.public_base_url
    return (configured or request.host_url).rstrip("/")


def _order(locale: str | None, catalogue: cat.Catalogue) -> tuple[str, ...]:
    preferences = locales.requested(locale, request.headers.get("Accept-Language"))
    return locales.effective(preferences, catalogue.locales)


def _filters(args: dict[str, Any]) -> cat.Filters:
    return cat.Filters(
        audience=args.get("audience"), kind=args.get("kind"), campaign=args.get("campaign")
    )


# Route parameters, not `blp.doc(parameters=...)`: a documented parameter list replaces the
# one built from the query schema (flask-smorest merges documentation dicts, not lists).
@blp.route("", parameters=CONDITIONAL_PARAMETERS)
class ContentList(MethodView):
    @auth.partner(blp, "content:read")
    @blp.doc(operationId="listContent")
    @blp.arguments(ContentQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PartnerItemSchema(many=True), headers=LIST_HEADERS)
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """List published content in your locale

        Oldest change first; follow `Link: rel="next"`. With `updated_since`, only
        items changed after that instant, and tombstones (`status` retired or expired)
        for items to drop. Send `If-None-Match` with the ETag you hold: 304 when
        nothing changed.
        """
        catalogue, now = http_cache.catalogue(), clock.now()
        order, filters = _order(args.get("locale"), catalogue), _filters(args)
        since, limit, cursor = args.get("updated_since"), args["limit"], args.get("cursor")
        key = (
            "list", catalogue.token, catalogue.epoch(now), order, filters,
            since.isoformat() if since else None, limit, cursor,
        )  # fmt: skip
        return http_cache.serve(
            key,
            version=(catalogue.token, key[2]),
            build=lambda: catalogue.listing(
                filters=filters,
                order=order,
                updated_since=since,
                limit=limit,
                cursor=cursor,
                now=now,
            ),
        )


# -- feeds: one view, two formats ----------------------------------------------


@dataclass(frozen=True)
class FeedFormat:
    """What tells the feeds apart: media type, writer, and the documentation of the 200."""

    mimetype: str
    write: Callable[..., bytes]  # (entries, *, base_url, self_url, language) -> body
    operation_id: str
    summary: str
    body: str
    schema: dict[str, Any]


ATOM_FEED = FeedFormat(
    mimetype=ATOM,
    write=feeds.atom,
    operation_id="getContentAtomFeed",
    summary="Atom feed of published content",
    body="Atom feed (RFC 4287), newest first.",
    schema={"type": "string"},
)
JSON_FEED_FORMAT = FeedFormat(
    mimetype=JSON_FEED,
    write=feeds.json_feed,
    operation_id="getContentJsonFeed",
    summary="JSON Feed 1.1 of published content",
    body="JSON Feed 1.1, newest first.",
    schema=JSON_FEED_SCHEMA,
)
FEED_DESCRIPTION = "Every visible item of the audience (and kind, campaign) in your locale."


def _feed_responses(fmt: FeedFormat) -> dict[str, Any]:
    return {
        "200": {
            "description": fmt.body,
            "headers": VALIDATOR_HEADERS,
            "content": {fmt.mimetype: {"schema": fmt.schema}},
        }
    }


def _feed(fmt: FeedFormat, args: dict[str, Any]) -> Response:
    catalogue, now = http_cache.catalogue(), clock.now()
    order, filters = _order(args.get("locale"), catalogue), _filters(args)
    base, self_url = _base_url(), _base_url() + request.full_path.rstrip("?")
    key = (fmt.mimetype, catalogue.token, catalogue.epoch(now), order, filters, self_url)

    def build() -> cat.Representation:
        entries = catalogue.feed_entries(filters=filters, order=order, now=now)
        language = order[0] if order else "fr"
        body = fmt.write(entries, base_url=base, self_url=self_url, language=language)
        return cat.represent(
            body,
            last_modified=catalogue.last_modified(now),
            languages=sorted({locale for _, locale in entries}) or [language],
            pulled=[(entry.id, locale) for entry, locale in entries],
        )

    return http_cache.serve(key, build, version=(catalogue.token, key[2]), mimetype=fmt.mimetype)


def _feed_view(fmt: FeedFormat) -> type[MethodView]:
    """The feed view in one format: same parameters, checks and caching; its own body."""

    class Feed(MethodView):
        @auth.partner(blp, "content:read")
        @blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
        @blp.alt_response(304, description=NOT_MODIFIED)
        @blp.doc(
            operationId=fmt.operation_id,
            summary=fmt.summary,
            description=FEED_DESCRIPTION,
            responses=_feed_responses(fmt),
        )
        def get(self, **args: Any) -> Any:
            return _feed(fmt, args)

    return Feed


blp.route("/feed.atom", endpoint="AtomFeed", parameters=CONDITIONAL_PARAMETERS)(
    _feed_view(ATOM_FEED)
)
blp.route("/feed.json", endpoint="JsonFeed", parameters=CONDITIONAL_PARAMETERS)(
    _feed_view(JSON_FEED_FORMAT)
)


@blp.route("/<string:item_id>", parameters=CONDITIONAL_PARAMETERS)
class ContentRead(MethodView):
    @auth.partner(blp, "content:read")
    @blp.doc(operationId="getContent")
    @blp.arguments(ItemQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PartnerItemSchema, headers=VALIDATOR_HEADERS)
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE")
    def get(self, item_id: str, **args: Any) -> Any:
        """Read one published item in the negotiated locale

        410 when the item was retired or has expired: drop your copy.
        """
        catalogue, now = http_cache.catalogue(), clock.now()
        entry = catalogue.item(item_id)
        if entry is None:
            raise NotFound(f"No published content item {item_id}.")
        if not entry.visible(now):
            state = "retired" if entry.status == "retired" else "expired"
            raise Gone(f"Content item {item_id} is {state}: drop your copy.")
        order = _order(args.get("locale"), catalogue)
        key = ("item", catalogue.token, catalogue.epoch(now), item_id, order)
        return http_cache.serve(
            key, lambda: cat.single(entry, order=order), version=(catalogue.token, key[2])
        )


# -- editors ------------------------------------------------------------------


@admin_blp.route("")
class ContentDrafts(MethodView):
    @auth.staff(admin_blp, "editor")
    @admin_blp.doc(operationId="createContentDraft")
    @admin_blp.arguments(ContentInSchema, example=CONTENT_EXAMPLE)
    @admin_blp.response(201, EditorItemSchema)
    @admin_blp.alt_response(409, response="CONFLICT")
    @admin_blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    def post(self, data: dict[str, Any]) -> Any:
        """Write a draft

        Nothing is visible to partners until the item is published.
        """
        session = web.session()
        item = service.create(session=session, data=data, operator_id=auth.current_operator().id)
        session.commit()
        return item, 201, {"Location": item.editor_links["self"]}

    @auth.staff(admin_blp, "editor")
    @admin_blp.doc(operationId="listEditorContent")
    @admin_blp.arguments(EditorListArgsSchema, location="query", as_kwargs=True)
    @admin_blp.response(200, EditorItemSchema(many=True))
    @admin_blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """List every item (drafts, published, retired)"""
        page = service.list_(
            session=web.session(),
            status=args.get("status"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page.items, 200, next_link(page.next_cursor)


@admin_blp.route("/<string:item_id>")
class ContentDraft(MethodView):
    @auth.staff(admin_blp, "editor")
    @admin_blp.doc(operationId="getEditorContent")
    @admin_blp.response(200, EditorItemSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    def get(self, item_id: str) -> Any:
        """Read an item: its draft, a rendering preview, and its published state"""
        return service.get(session=web.session(), item_id=item_id)

    @auth.staff(admin_blp, "editor")
    @admin_blp.doc(operationId="updateContentDraft")
    @admin_blp.arguments(ContentPatchSchema)
    @admin_blp.response(200, EditorItemSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    @admin_blp.alt_response(409, response="CONFLICT")
    @admin_blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    def patch(self, data: dict[str, Any], item_id: str) -> Any:
        """Change the draft

        `translations` merges by locale (null removes one). A published item keeps
        serving its published version until you publish again.
        """
        session = web.session()
        item = service.update(
            session=session, item_id=item_id, data=data, operator_id=auth.current_operator().id
        )
        session.commit()
        return item


@admin_blp.route("/<string:item_id>/publish")
class ContentPublish(MethodView):
    @auth.staff(admin_blp, "editor")
    @admin_blp.doc(operationId="publishContent")
    @admin_blp.response(200, EditorItemSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    @admin_blp.alt_response(409, response="CONFLICT", example=PROBLEM_NO_FRENCH)
    def post(self, item_id: str) -> Any:
        """Publish the draft

        Needs a `fr` translation and https media links (409 naming each problem
        otherwise). Bumps the version and emits `content.published`. Publishing an
        unchanged published item changes nothing.
        """
        session = web.session()
        item, changed = service.publish(
            session=session, item_id=item_id, operator_id=auth.current_operator().id
        )
        session.commit()
        if changed:
            http_cache.changed()
        return item


@admin_blp.route("/<string:item_id>/retire")
class ContentRetire(MethodView):
    @auth.staff(admin_blp, "editor")
    @admin_blp.doc(operationId="retireContent")
    @admin_blp.response(200, EditorItemSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    @admin_blp.alt_response(409, response="CONFLICT")
    def post(self, item_id: str) -> Any:
        """Retire a published item

        Partners reading with `updated_since` get a tombstone; emits `content.retired`.
        """
        session = web.session()
        item, changed = service.retire(
            session=session, item_id=item_id, operator_id=auth.current_operator().id
        )
        session.commit()
        if changed:
            http_cache.changed()
        return item

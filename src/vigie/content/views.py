"""Partner reading (content:read) and the editors' workflow (role editor)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.http import http_date, is_resource_modified

from vigie import auth, clock, web
from vigie.content import catalogue as cat
from vigie.content import feeds, locales, service
from vigie.content.cache import ContentCache
from vigie.content.examples import CONTENT_EXAMPLE, PROBLEM_NO_FRENCH
from vigie.content.pulls import PullRecorder
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

blp = Blueprint(
    "content", __name__, url_prefix="/v1/content", description="Awareness content for partners"
)
admin_blp = Blueprint(
    "content-admin",
    __name__,
    url_prefix="/v1/admin/content",
    description="Awareness content: editors' drafts, publishing and retiring",
)

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


def _feed_doc(mimetype: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "responses": {
            "200": {
                "description": description,
                "headers": VALIDATOR_HEADERS,
                "content": {mimetype: {"schema": schema}},
            }
        }
    }


class Gone(Problem):
    status, slug = 410, "gone"


@dataclass
class ContentRuntime:
    """What one process keeps in memory for content: catalogue, responses, pull counts."""

    cache: ContentCache
    recorder: PullRecorder
    cache_control: str


def content_runtime(app: Flask | None = None) -> ContentRuntime:
    app = app or current_app
    found: ContentRuntime | None = app.extensions.get("vigie.content")
    if found is None:
        rt = app.extensions["vigie"]
        found = ContentRuntime(
            cache=ContentCache(ttl_seconds=rt.config.content_version_ttl_seconds),
            recorder=PullRecorder(db=rt.db, flush_seconds=rt.config.content_pull_flush_seconds),
            cache_control=f"public, max-age={rt.config.content_max_age_seconds}",
        )
        found = app.extensions.setdefault("vigie.content", found)
    return found


def _catalogue() -> cat.Catalogue:
    return content_runtime().cache.catalogue(
        token=lambda: service.state_token(session=web.session()),
        load=lambda: service.catalogue(session=web.session()),
    )


def _base_url() -> str:
    configured: str = web.runtime().config.public_base_url
    return (configured or request.host_url).rstrip("/")


def _raw_key() -> tuple[str, str, str, bytes, str | None]:
    return (
        request.scheme,
        request.host,
        request.path,
        request.query_string,
        request.headers.get("Accept-Language"),
    )


def _serve(
    key: Hashable,
    build: Callable[[], cat.Representation],
    *,
    version: tuple[str, int],
    mimetype: str = "application/json",
) -> Response:
    """Answer from the response cache, with validators; 304 when the caller's copy is current."""
    state = content_runtime()
    rep = state.cache.response(key, build)
    link = next_link(rep.next_cursor)  # depends on the request URL: remembered with it
    state.cache.remember(_raw_key(), (version, rep, mimetype, link))
    return _respond(state, rep, mimetype, link)


def _respond(
    state: ContentRuntime, rep: cat.Representation, mimetype: str, link: dict[str, str]
) -> Response:
    modified = is_resource_modified(request.environ, etag=rep.etag, last_modified=rep.last_modified)
    state.recorder.record(
        partner_id=auth.current_partner().id, items=rep.pulled, revalidated=not modified
    )
    headers = {
        "ETag": f'"{rep.etag}"',
        "Last-Modified": http_date(rep.last_modified),
        "Cache-Control": state.cache_control,
        "Vary": "Accept-Language",
    }
    if modified:
        headers["Content-Language"] = rep.content_language
        headers.update(link)
        response = Response(rep.body, 200, headers, mimetype=mimetype)
    else:
        response = Response(status=304, headers=headers)
    if state.recorder.due():
        response.call_on_close(state.recorder.flush)
    return response


@blp.before_request
def _answer_from_memory() -> Response | None:
    """The hot path: a request already answered for this catalogue is served from memory.

    Keyed by the raw request (scheme, host, path, query string, Accept-Language), so it skips
    argument parsing and the view; it still authenticates the key and counts the pull.
    Requests never seen, or whose parameters are invalid, go through the view.
    """
    state = content_runtime()
    key = _raw_key()
    if not state.cache.knows(key):
        return None
    catalogue = _catalogue()  # at most one version read per TTL; a change empties the memo
    found = state.cache.recall(key)
    if found is None:
        return None
    version, rep, mimetype, link = found
    if version != (catalogue.token, catalogue.epoch(clock.now())):
        return None
    g.partner = auth.authenticate_partner("content:read")
    return _respond(state, rep, mimetype, link)


def _order(locale: str | None, catalogue: cat.Catalogue) -> tuple[str, ...]:
    preferences = locales.requested(locale, request.headers.get("Accept-Language"))
    return locales.effective(preferences, catalogue.locales)


def _filters(args: dict[str, Any]) -> cat.Filters:
    return cat.Filters(
        audience=args.get("audience"), kind=args.get("kind"), campaign=args.get("campaign")
    )


@blp.route("")
class ContentList(MethodView):
    @auth.partner(blp, "content:read")
    @blp.arguments(ContentQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PartnerItemSchema(many=True), headers=LIST_HEADERS)
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.doc(parameters=CONDITIONAL_PARAMETERS)
    def get(self, **args: Any) -> Any:
        """List published content in your locale

        Oldest change first; follow `Link: rel="next"`. With `updated_since`, only
        items changed after that instant, and tombstones (`status` retired or expired)
        for items to drop. Send `If-None-Match` with the ETag you hold: 304 when
        nothing changed.
        """
        catalogue, now = _catalogue(), clock.now()
        order, filters = _order(args.get("locale"), catalogue), _filters(args)
        since, limit, cursor = args.get("updated_since"), args["limit"], args.get("cursor")
        key = (
            "list", catalogue.token, catalogue.epoch(now), order, filters,
            since.isoformat() if since else None, limit, cursor,
        )  # fmt: skip
        return _serve(
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


def _feed(builder: Callable[..., bytes], args: dict[str, Any], mimetype: str) -> Response:
    catalogue, now = _catalogue(), clock.now()
    order, filters = _order(args.get("locale"), catalogue), _filters(args)
    base, self_url = _base_url(), _base_url() + request.full_path.rstrip("?")
    key = (mimetype, catalogue.token, catalogue.epoch(now), order, filters, self_url)

    def build() -> cat.Representation:
        entries = catalogue.feed_entries(filters=filters, order=order, now=now)
        language = order[0] if order else "fr"
        body = builder(entries, base_url=base, self_url=self_url, language=language)
        return cat.represent(
            body,
            last_modified=catalogue.last_modified(now),
            languages=sorted({locale for _, locale in entries}) or [language],
            pulled=[(entry.id, locale) for entry, locale in entries],
        )

    return _serve(key, build, version=(catalogue.token, key[2]), mimetype=mimetype)


@blp.route("/feed.atom")
class AtomFeed(MethodView):
    @auth.partner(blp, "content:read")
    @blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.doc(
        parameters=CONDITIONAL_PARAMETERS,
        **_feed_doc(ATOM, "Atom feed (RFC 4287), newest first.", {"type": "string"}),
    )
    def get(self, **args: Any) -> Any:
        """Atom feed of published content

        Every visible item of the audience (and kind, campaign) in your locale.
        """
        return _feed(feeds.atom, args, ATOM)


@blp.route("/feed.json")
class JsonFeed(MethodView):
    @auth.partner(blp, "content:read")
    @blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.doc(
        parameters=CONDITIONAL_PARAMETERS,
        **_feed_doc(JSON_FEED, "JSON Feed 1.1, newest first.", JSON_FEED_SCHEMA),
    )
    def get(self, **args: Any) -> Any:
        """JSON Feed 1.1 of published content

        Every visible item of the audience (and kind, campaign) in your locale.
        """
        return _feed(feeds.json_feed, args, JSON_FEED)


@blp.route("/<string:item_id>")
class ContentRead(MethodView):
    @auth.partner(blp, "content:read")
    @blp.arguments(ItemQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PartnerItemSchema, headers=VALIDATOR_HEADERS)
    @blp.alt_response(304, description=NOT_MODIFIED)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE")
    @blp.doc(parameters=CONDITIONAL_PARAMETERS)
    def get(self, item_id: str, **args: Any) -> Any:
        """Read one published item in the negotiated locale

        410 when the item was retired or has expired: drop your copy.
        """
        catalogue, now = _catalogue(), clock.now()
        entry = catalogue.item(item_id)
        if entry is None:
            raise NotFound(f"No published content item {item_id}.")
        if not entry.visible(now):
            state = "retired" if entry.status == "retired" else "expired"
            raise Gone(f"Content item {item_id} is {state}: drop your copy.")
        order = _order(args.get("locale"), catalogue)
        key = ("item", catalogue.token, catalogue.epoch(now), item_id, order)
        return _serve(
            key, lambda: cat.single(entry, order=order), version=(catalogue.token, key[2])
        )


# -- editors ------------------------------------------------------------------


def _changed() -> None:
    """This worker changed the content: forget its memory now (others: within the TTL)."""
    content_runtime().cache.invalidate()


@admin_blp.route("")
class ContentDrafts(MethodView):
    @auth.staff(admin_blp, "editor")
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
        view = service.editor_view(item)
        return view, 201, {"Location": view["links"]["self"]}

    @auth.staff(admin_blp, "editor")
    @admin_blp.arguments(EditorListArgsSchema, location="query", as_kwargs=True)
    @admin_blp.response(200, EditorItemSchema(many=True))
    @admin_blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """List every item (drafts, published, retired)"""
        rows, cursor = service.list_(
            session=web.session(),
            status=args.get("status"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return [service.editor_view(r) for r in rows], 200, next_link(cursor)


@admin_blp.route("/<string:item_id>")
class ContentDraft(MethodView):
    @auth.staff(admin_blp, "editor")
    @admin_blp.response(200, EditorItemSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    def get(self, item_id: str) -> Any:
        """Read an item: its draft, a rendering preview, and its published state"""
        return service.editor_view(service.get(session=web.session(), item_id=item_id))

    @auth.staff(admin_blp, "editor")
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
        return service.editor_view(item)


@admin_blp.route("/<string:item_id>/publish")
class ContentPublish(MethodView):
    @auth.staff(admin_blp, "editor")
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
            _changed()
        return service.editor_view(item)


@admin_blp.route("/<string:item_id>/retire")
class ContentRetire(MethodView):
    @auth.staff(admin_blp, "editor")
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
            _changed()
        return service.editor_view(item)

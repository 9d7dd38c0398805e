"""HTTP caching of partner content reads: validators, 304s, and the memory of answers.

Every partner read is answered from a `Representation` (body, ETag, Last-Modified) built
once per catalogue version and kept in the worker's `ContentCache`. A request whose copy
is current gets a 304 without a body. A request already answered for this catalogue is
recognised by its raw form (scheme, host, path, query string, Accept-Language) before the
view runs (`answer_from_memory`): it skips argument parsing, yet is still authenticated by
`vigie.auth` and counted. Neither path opens an ORM session for the content, except the
version read the cache makes at most once per TTL (see memory.py).

Used by the content views only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from werkzeug.http import http_date, is_resource_modified

from vigie import auth, clock, web
from vigie.content import service
from vigie.content.catalogue import Catalogue, Representation
from vigie.content.memory import ContentCache
from vigie.content.pulls import PullRecorder
from vigie.pagination import next_link

SCOPE = "content:read"


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


def catalogue() -> Catalogue:
    """The catalogue this worker holds; its version is read at most once per TTL."""
    return content_runtime().cache.catalogue(
        token=lambda: service.state_token(session=web.session()),
        load=lambda: service.catalogue(session=web.session()),
    )


def changed() -> None:
    """This worker changed the content: forget its memory now (others: within the TTL)."""
    content_runtime().cache.invalidate()


def _raw_key() -> tuple[str, str, str, bytes, str | None]:
    return (
        request.scheme,
        request.host,
        request.path,
        request.query_string,
        request.headers.get("Accept-Language"),
    )


def serve(
    key: Hashable,
    build: Callable[[], Representation],
    *,
    version: tuple[str, int],
    mimetype: str = "application/json",
) -> Response:
    """Answer from the response cache, with validators; 304 when the caller's copy is current."""
    state = content_runtime()
    rep = state.cache.response(key, build)
    link = next_link(rep.next_cursor)  # depends on the request URL: remembered with it
    state.cache.remember(_raw_key(), (version, rep, mimetype, link))
    return _respond(state, rep, mimetype, link, partner_id=auth.current_partner().id)


def answer_from_memory() -> Response | None:
    """The hot path (a `before_request` of the content blueprint): a request already
    answered for this catalogue is served from memory.

    Keyed by the raw request (scheme, host, path, query string, Accept-Language), so it skips
    argument parsing and the view; it still authenticates the key and counts the pull.
    Requests never seen, or whose parameters are invalid, go through the view.
    """
    state = content_runtime()
    key = _raw_key()
    if not state.cache.knows(key):
        return None
    current = catalogue()  # at most one version read per TTL; a change empties the memo
    found = state.cache.recall(key)
    if found is None:
        return None
    version, rep, mimetype, link = found
    if version != (current.token, current.epoch(clock.now())):
        return None
    caller = auth.require_partner(SCOPE)  # the views' authentication, run before them
    return _respond(state, rep, mimetype, link, partner_id=caller.id)


def _respond(
    state: ContentRuntime,
    rep: Representation,
    mimetype: str,
    link: dict[str, str],
    *,
    partner_id: int,
) -> Response:
    modified = is_resource_modified(request.environ, etag=rep.etag, last_modified=rep.last_modified)
    state.recorder.record(partner_id=partner_id, items=rep.pulled, revalidated=not modified)
    headers = {
        "ETag": f'"{rep.etag}"',
        "Last-Modified": http_date(rep.last_modified),
        "Cache-Control": state.cache_control,
        # Every content request carries a key: a shared cache keeps one copy per key, so it
        # never answers a request without one (RFC 9111 3.5 lets it store with `public`).
        "Vary": "Accept-Language, Authorization",
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

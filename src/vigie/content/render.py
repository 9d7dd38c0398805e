"""Markdown to safe HTML: markdown-it-py renders, nh3 (Ammonia) sanitises.

Editors write Markdown; raw HTML in it is parsed and then stripped by the
sanitiser's allow-list, so `<script>`, event-handler attributes, `javascript:`
links and images (tracking pixels) never reach a partner's screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "strong", "em", "ul", "ol", "li",
    "blockquote", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"https", "http", "mailto", "tel"}

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def to_html(markdown: str) -> str:
    """Sanitised HTML for a Markdown body."""
    return nh3.clean(
        _markdown.render(markdown),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    ).strip()


def previews(translations: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Draft translations, each with `body_html`: what publishing would show partners."""
    return {
        locale: {**text, "body_html": to_html(text["body_markdown"])}
        for locale, text in translations.items()
    }

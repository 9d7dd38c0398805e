"""Helpers for the console tests: a browser-like test client, and what a page may link to."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from conftest import Actor

PASSWORD = "mot de passe de test 2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Any URL with a scheme or a network path (//host): a page must name none but its own paths.
OTHER_ORIGIN = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s"'<>]+""", re.I)
URL_ATTRIBUTES = re.compile(
    r"""\b(?:src|href|action|srcset|data|poster|formaction)\s*=\s*["']([^"']*)["']""", re.I
)


def assert_same_origin_only(html: str, where: str = "") -> None:
    """No attribute of the page points at another origin, and no URL with a host appears."""
    for value in URL_ATTRIBUTES.findall(html):
        assert value.startswith(("/", "#", "?")) or value == "", (where, value)
        assert not value.startswith("//"), (where, value)
    found = OTHER_ORIGIN.findall(html)
    assert found == [], (where, found)


class Console:
    """A test client used like a browser: keeps its cookie and the last page's CSRF token."""

    def __init__(self, client: FlaskClient, actor: Actor | None = None) -> None:
        self.client = client
        self.actor = actor
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not self.token:
            self.get("/console/")
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def login(self, name: str, password: str = PASSWORD, **kwargs: Any) -> Any:
        self.get("/console/")
        return self.post("/console/login", {"name": name, "password": password}, **kwargs)

    def follow(self, response: Any) -> Any:
        assert response.status_code in (302, 303), response.status_code
        return self.get(response.headers["Location"])

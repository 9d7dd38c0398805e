"""The origins allowed to frame a partner's embeddable form (CSP `frame-ancestors`).

An origin is `scheme://host[:port]` and nothing else: no path, query, user, wildcard or
list separator, since each one is written as is into a Content-Security-Policy header.
`https` only, except `http` on a loopback host (localhost, 127.0.0.0/8, ::1) outside
production, for a partner's local development.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from vigie.errors import Invalid

MAX_ORIGINS = 20
MAX_LENGTH = 200
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(?:\.{LABEL})*$")
FORBIDDEN = re.compile(r"[\s;,'\"*\\]")
SHAPE = "an origin is scheme://host[:port], e.g. https://www.example.org"


def _refuse(origin: str, why: str) -> Invalid:
    return Invalid(f"Embed origin {origin!r}: {why}.", field="embed_origins")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host(origin: str, parts: SplitResult) -> str:
    """The host in its ASCII form (IDNA for a non-ASCII name, brackets for IPv6)."""
    host = parts.hostname
    if not host:
        raise _refuse(origin, f"no host; {SHAPE}")
    address = _ip(host)
    if address is not None:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        name = ""
    if not DNS_NAME.match(name):
        raise _refuse(origin, "the host is not a valid domain name")
    return name


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _ip(host.strip("[]"))
    return address is not None and address.is_loopback


def _check_text(origin: str) -> str:
    """The origin without surrounding spaces, refused if it holds what no origin may."""
    text = origin.strip()
    if not text or len(text) > MAX_LENGTH:
        raise _refuse(origin, f"empty or longer than {MAX_LENGTH} characters")
    if "*" in text:
        raise _refuse(origin, "wildcards are not allowed; list each origin")
    if FORBIDDEN.search(text):
        raise _refuse(origin, f"spaces, quotes, commas and semicolons are not allowed; {SHAPE}")
    return text


def _check_parts(origin: str, text: str) -> tuple[str, SplitResult]:
    """The scheme and the parts of an origin that has nothing but a scheme, host and port."""
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not text.lower().startswith(f"{scheme}://"):
        raise _refuse(origin, f"must start with https://; {SHAPE}")
    if parts.username is not None or parts.password is not None:
        raise _refuse(origin, f"no user name or password; {SHAPE}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise _refuse(origin, f"an origin has no path, query or fragment; {SHAPE}")
    return scheme, parts


def _port(origin: str, parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise _refuse(origin, "the port must be a number from 1 to 65535")
    return port


def check_origin(origin: str, *, allow_loopback_http: bool) -> str:
    """The origin in its normal form (lower case, no trailing slash), or Invalid saying why."""
    scheme, parts = _check_parts(origin, _check_text(origin))
    host = _host(origin, parts)
    port = _port(origin, parts)
    if scheme == "http" and not (allow_loopback_http and _is_loopback(host)):
        raise _refuse(
            origin, "must use https (http is accepted only for localhost, outside production)"
        )
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def check_origins(origins: Iterable[str], *, allow_loopback_http: bool) -> list[str]:
    """Each origin checked and normalised, duplicates dropped, order kept."""
    checked: list[str] = []
    for origin in origins:
        normal = check_origin(origin, allow_loopback_http=allow_loopback_http)
        if normal not in checked:
            checked.append(normal)
    if len(checked) > MAX_ORIGINS:
        raise Invalid(f"At most {MAX_ORIGINS} embed origins.", field="embed_origins")
    return checked

"""The outbound HTTP client of webhook delivery: SSRF-checked, pinned to the checked
address, never raising (the worker sends with it; the API only checks URLs with it).

- Every URL is checked before each send (scheme, userinfo, port, every resolved address),
  then the connection goes to the address that was checked, not to a fresh DNS answer:
  the request URL is rewritten to the IP, `Host` keeps the name, and for https the TLS
  SNI and certificate check keep the name too (see `PinnedAdapter`).
- Timeouts: connect 5 s, 15 s in total; redirects are never followed; at most 64 KiB
  of a response is read.
- A send returns a `Result` (status, duration, error class, the first bytes of the body);
  a remote failure is never an exception.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_ALLOWED_PORTS = (443, 8443)
USER_AGENT = "Vigie-Webhooks/1.0 (+https://vigie.miprof.gouv.fr)"

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
UNRESOLVABLE = "Refused: the host name does not resolve."


class UnsafeURL(ValueError):
    """A URL we refuse to call; `reason` is a short code (the rule: scheme, userinfo, port,
    address, unresolvable, malformed), the message names the rule and says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Policy:
    """What an outbound URL may be. `allow_private` lifts the address and port rules."""

    https_only: bool = True
    allow_private: bool = False
    allowed_ports: tuple[int, ...] = DEFAULT_ALLOWED_PORTS


@dataclass(frozen=True)
class Target:
    """A checked URL and the address the connection must go to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


@dataclass(frozen=True)
class Result:
    """What happened on one send. `error` is a short class name, None on an HTTP answer."""

    status: int | None
    duration_ms: int
    error: str | None = None
    body: bytes = b""
    headers: Mapping[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this to stub DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """False for loopback, private, link-local, shared, multicast, reserved, unspecified,
    documentation and benchmarking ranges, and for IPv6 forms embedding such an IPv4."""
    ip: IP = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public(str(embedded))
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(
    url: str, policy: Policy, *, resolver: Callable[[str, int], list[str]] | None = None
) -> Target:
    """Refuse unsafe URLs (UnsafeURL); return the checked address to connect to."""
    parts, port = _split(url)
    scheme = _checked_scheme(parts.scheme, policy)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL(
            "userinfo",
            "Refused by the userinfo rule: the URL must not contain a user name or password.",
        )
    host = parts.hostname
    if not host:
        raise UnsafeURL("malformed", "Refused: the URL has no host.")
    port = _checked_port(port if port is not None else (443 if scheme == "https" else 80), policy)
    addresses = _checked_addresses(host, port, policy, resolver or resolve)
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


def _split(url: str) -> tuple[SplitResult, int | None]:
    try:
        parts = urlsplit(url)
        return parts, parts.port
    except ValueError:
        raise UnsafeURL("malformed", "Refused: the URL is malformed.") from None


def _checked_scheme(scheme: str, policy: Policy) -> str:
    allowed = ("https",) if policy.https_only else ("https", "http")
    if scheme.lower() not in allowed:
        raise UnsafeURL(
            "scheme", f"Refused by the scheme rule: the URL must use {' or '.join(allowed)}."
        )
    return scheme.lower()


def _checked_port(port: int, policy: Policy) -> int:
    """Port 0 is never a service (connecting to it fails or picks a port): refused even
    when the policy allows private targets, not read as the scheme's default."""
    if port == 0:
        raise UnsafeURL("port", "Refused by the port rule: port 0 is not a port to call.")
    if not policy.allow_private and port not in policy.allowed_ports:
        allowed = ", ".join(str(p) for p in policy.allowed_ports)
        raise UnsafeURL("port", f"Refused by the port rule: the port must be one of {allowed}.")
    return port


def _checked_addresses(
    host: str, port: int, policy: Policy, resolver: Callable[[str, int], list[str]]
) -> list[str]:
    """Every address of `host`; all of them public unless the policy allows private ones."""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        raise UnsafeURL("unresolvable", UNRESOLVABLE) from None
    if not addresses:
        raise UnsafeURL("unresolvable", UNRESOLVABLE)
    if not policy.allow_private and not all(is_public(a) for a in addresses):
        raise UnsafeURL(
            "address",
            "Refused by the address rule: the host resolves to an address that is not public "
            "(loopback, private, link-local or another reserved range).",
        )
    return addresses


# The sockets the current thread's send reads from (see `_Watchdog`).
_sending = threading.local()


def _watched(connection_class: type[Any]) -> type[Any]:
    """A urllib3 connection class that tells the sending thread's watchdog its socket."""

    class Watched(connection_class):
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            sockets = getattr(_sending, "sockets", None)
            if sockets is not None and self.sock is not None:
                sockets.append(self.sock)
            return super().getresponse(*args, **kwargs)

    return Watched


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _watched(urllib3.connection.HTTPConnection)


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _watched(urllib3.connection.HTTPSConnection)


class _Watchdog:
    """Shuts the connection down at the total deadline, whatever the receiver is doing: the
    socket's read timeout restarts with each byte, so a receiver dripping its status line
    or headers a byte at a time would otherwise hold a delivery thread as long as it liked."""

    def __init__(self, seconds: float) -> None:
        self.sockets: list[socket.socket] = []
        self.fired = False
        self.timer = threading.Timer(max(seconds, 0.0), self._cut)
        self.timer.daemon = True

    def __enter__(self) -> _Watchdog:
        _sending.sockets = self.sockets
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()
        _sending.sockets = None

    def _cut(self) -> None:
        self.fired = True
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):  # already closed: nothing to cut
                sock.shutdown(socket.SHUT_RDWR)


class PinnedAdapter(HTTPAdapter):
    """Connects to the IP in the URL while TLS (SNI, certificate) checks the original name."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        server_name = getattr(request, "vigie_server_name", None)
        if server_name is None:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        host_params, built = self.build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs: dict[str, Any] = dict(built)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = server_name
            pool_kwargs["assert_hostname"] = server_name
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


def new_session(pool_size: int = 32) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment
    adapter = PinnedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _pinned_url(target: Target) -> str:
    parts = urlsplit(target.url)
    ip = ipaddress.ip_address(target.address.split("%", 1)[0])
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


class Client:
    """The worker's outbound client: one requests.Session shared by the delivery threads."""

    def __init__(
        self,
        policy: Policy,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        total_timeout: float = TOTAL_TIMEOUT,
        max_bytes: int = MAX_RESPONSE_BYTES,
        pool_size: int = 32,
        verify: bool | str = True,
    ) -> None:
        self.policy = policy
        self.verify = verify  # True: the system's CAs; a path: a CA bundle (tests)
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.session = new_session(pool_size)

    def close(self) -> None:
        self.session.close()

    def post(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> Result:
        """POST `body` to `url`; every outcome is a Result, never an exception."""
        started = time.monotonic()
        try:
            target = check_url(url, self.policy, resolver=resolve)
        except UnsafeURL as refused:
            return _failed(started, f"unsafe_url:{refused.reason}")
        prepared = self._prepare(target, body=body, headers=headers)
        try:
            return self._exchange(prepared, started)
        except Exception as exc:  # noqa: BLE001 - a remote failure must never escape the sender
            return _failed(started, _error_class(exc))

    def _prepare(
        self, target: Target, *, body: bytes, headers: Mapping[str, str]
    ) -> requests.PreparedRequest:
        """Prepared directly: no cookies, auth or environment settings are merged in."""
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method="POST",
            url=_pinned_url(target),
            data=body,
            headers={
                **self.session.headers,
                **headers,
                "Host": _host_header(target),
                "Content-Type": "application/json",
            },
        )
        prepared.vigie_server_name = target.host  # type: ignore[attr-defined]
        return prepared

    def _exchange(self, prepared: requests.PreparedRequest, started: float) -> Result:
        """Send and read the answer; failures are raised, for `post` to name."""
        timeout = urllib3.Timeout(
            connect=self.connect_timeout, read=self.total_timeout, total=self.total_timeout
        )
        # The adapter directly: Session.send would look at a 3xx's Location (and read its
        # body) even with allow_redirects=False. Redirects are never followed.
        adapter = self.session.get_adapter(prepared.url or "")
        deadline = started + self.total_timeout
        with _Watchdog(deadline - time.monotonic()) as watchdog:
            try:
                response = adapter.send(
                    prepared,
                    stream=True,
                    timeout=timeout,  # type: ignore[arg-type]  # requests takes urllib3's
                    verify=self.verify,
                    proxies={},
                )
                try:
                    body_read = self._read(response, deadline)
                finally:
                    response.close()
            except Exception:
                if watchdog.fired:
                    raise _TooSlow from None
                raise
        if watchdog.fired:
            raise _TooSlow
        return Result(
            status=response.status_code,
            duration_ms=_ms_since(started),
            body=body_read,
            headers=dict(response.headers),
        )

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        """At most `max_bytes` of the body; gives up at the total deadline.

        `read1` returns what has arrived instead of waiting for a whole chunk: a receiver
        dripping a byte at a time (each within the socket's read timeout) held a delivery
        thread for as long as it liked, since the deadline was only looked at between 8 KiB
        chunks.
        """
        chunks: list[bytes] = []
        size = 0
        while size < self.max_bytes:
            if time.monotonic() > deadline:
                raise _TooSlow
            chunk = response.raw.read1(min(8192, self.max_bytes - size), decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)[: self.max_bytes]


class _TooSlow(Exception):
    """The response did not finish within the total timeout."""


# How a failed send is named in its attempt's `error`; the first matching class wins
# (ConnectTimeout and SSLError are also ConnectionErrors).
_ERROR_CLASSES: tuple[tuple[type[Exception], str], ...] = (
    (_TooSlow, "timeout"),
    (requests.exceptions.ConnectTimeout, "connect_timeout"),
    (requests.exceptions.Timeout, "timeout"),
    (requests.exceptions.SSLError, "tls_error"),
    (requests.exceptions.ConnectionError, "connection_error"),
)


def _error_class(exc: Exception) -> str:
    for kind, name in _ERROR_CLASSES:
        if isinstance(exc, kind):
            return name
    log.warning("unexpected error while sending", extra={"error": type(exc).__name__})
    return type(exc).__name__[:64]


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _failed(started: float, error: str) -> Result:
    return Result(status=None, duration_ms=_ms_since(started), error=error)

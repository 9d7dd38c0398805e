"""Against a real gunicorn: what the server refuses itself, chunked bodies and slow clients.

Raw sockets, because HTTP clients refuse to send what these tests need (a 10 KB request
line, a malformed chunk, a body shorter than its Content-Length).
"""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from live import LiveServer, vigie_server
from payloads import stay_report

pytestmark = pytest.mark.slow

PROBLEM_JSON = "application/problem+json"
LIMIT = 262_144


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with vigie_server(tmp_path_factory.mktemp("live-bodies"), workers=2) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: LiveServer) -> str:
    created = server.vigie(
        "partner", "create", "--name", "Bodies", "--scopes", "reports:write,reports:read", "--json"
    )
    return str(json.loads(created)["api_key"])


def _address(server: LiveServer) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(server.url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


def exchange(server: LiveServer, *parts: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send `parts` on one connection, then read the answer until the server closes it."""
    with socket.create_connection(_address(server), timeout=timeout) as sock:
        for part in parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered before reading everything: read its answer
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data or len(data) < _expected_length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    return status, headers, body


def _expected_length(data: bytes) -> int:
    head, found, _ = data.partition(b"\r\n\r\n")
    if not found:
        return 1 << 30
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return 1 << 30


def problem(status: int, headers: dict, body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert headers["content-type"].split(";")[0] == PROBLEM_JSON, headers
    document = json.loads(body)
    assert document["status"] == expected
    assert document["type"].startswith("/problems/")
    return document


def head(method: str, path: str, key: str | None = None, **extra: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(body: bytes, size: int = 16_384) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def report_count(server: LiveServer, key: str) -> int:
    status, _, body = exchange(server, head("GET", "/v1/reports?limit=100", key))
    assert status == 200
    return len(json.loads(body))


def test_a_request_line_of_10_kb_is_a_414_problem(server):
    status, headers, body = exchange(server, head("GET", "/v1/reports?q=" + "a" * 10_240))
    document = problem(status, headers, body, 414)
    assert document["type"] == "/problems/uri-too-long"
    assert "4094 bytes" in document["detail"]


@pytest.mark.parametrize(
    "extra",
    [{"X_Large": "a" * 10_000}, {f"X_Field_{i}": "1" for i in range(150)}],
    ids=["one-large-header", "150-headers"],
)
def test_oversized_headers_are_a_431_problem(server, extra):
    status, headers, body = exchange(server, head("GET", "/v1/reports", **extra))
    document = problem(status, headers, body, 431)
    assert document["type"] == "/problems/header-fields-too-large"


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(server, key):
    # A valid report followed by whitespace: cut at the limit, it would parse and be stored.
    body = json.dumps(stay_report(partner_reference="CHUNKED-BIG")).encode()
    body += b" " * (300 * 1024 - len(body))
    before = report_count(server, key)
    request = head(
        "POST",
        "/v1/reports",
        key,
        Content_Type="application/json",
        Transfer_Encoding="chunked",
    )
    status, headers, answer = exchange(server, request, chunked(body))
    document = problem(status, headers, answer, 413)
    assert document["type"] == "/problems/payload-too-large"
    assert document["detail"] == f"The body is larger than {LIMIT} bytes."
    assert report_count(server, key) == before


def test_a_body_over_the_limit_by_its_length_is_413(server, key):
    body = b" " * (300 * 1024)
    request = head(
        "POST", "/v1/reports", key, Content_Type="application/json", Content_Length=str(len(body))
    )
    status, headers, answer = exchange(server, request, body)
    problem(status, headers, answer, 413)


def test_a_chunked_body_within_the_limit_is_stored(server, key):
    body = json.dumps(stay_report(partner_reference="CHUNKED-OK")).encode()
    before = report_count(server, key)
    request = head(
        "POST", "/v1/reports", key, Content_Type="application/json", Transfer_Encoding="chunked"
    )
    status, _, answer = exchange(server, request, chunked(body, size=100))
    assert status == 201, answer
    assert report_count(server, key) == before + 1


def test_a_malformed_chunk_is_a_400_problem_not_a_500(server, key):
    request = head(
        "POST", "/v1/reports", key, Content_Type="application/json", Transfer_Encoding="chunked"
    )
    before = report_count(server, key)
    status, headers, answer = exchange(server, request, b"zz\r\n{}\r\n0\r\n\r\n")
    document = problem(status, headers, answer, 400)
    assert document["type"] == "/problems/malformed-body"
    assert "chunk" in document["detail"]
    assert report_count(server, key) == before


def test_anonymous_slow_bodies_are_answered_without_waiting_for_them(server):
    """Headers promising 100 bytes, 10 sent: the 401 comes at once, the worker is not held."""
    address = _address(server)
    connections = []
    started = time.monotonic()
    try:
        for _ in range(2):  # as many as the server has workers
            sock = socket.create_connection(address, timeout=10)
            connections.append(sock)
            sock.sendall(
                head("POST", "/v1/reports", Content_Type="application/json", Content_Length="100")
            )
            sock.sendall(b'{"context"')
        answers = [read_answer(sock) for sock in connections]
        elapsed = time.monotonic() - started
    finally:
        for sock in connections:
            sock.close()
    for status, headers, body in answers:
        problem(status, headers, body, 401)
    assert elapsed < 5, f"{elapsed:.1f} s: a worker waited for the body (gunicorn timeout: 30 s)"
    status, _, _ = exchange(server, head("GET", "/healthz"), timeout=5)
    assert status == 200

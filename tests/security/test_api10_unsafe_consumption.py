"""OWASP API10:2023, unsafe consumption of APIs: what partner and shelter-network receivers
answer, and what networks send, is never trusted nor echoed unsanitised.

A receiver's answer to a delivery is kept as an excerpt of at most 1 KiB (text, whatever the
bytes were), shown only to the endpoint's owner in its delivery attempts (JSON), never to
another partner nor in the console; a redirect is recorded, never followed (the SSRF side of
it: test_api7_ssrf.py); a receiver that answers slowly is cut at the total timeout, whether it
drips its body or its headers. A shelter network's outcome with unexpected fields or types is
422 and nothing of it is stored (the field-by-field cases: tests/triage/test_network_outcomes.py).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from console_support import Console
from network_support import OUTCOMES_URL, create_network, network_shelter, refer
from triage_support import report
from vigie.audit.models import AuditEntry
from vigie.webhooks import outbound
from vigie.webhooks.delivery import Deliverer
from vigie.webhooks.dispatch import MAX_BODY_EXCERPT
from vigie.webhooks.models import WebhookAttempt
from webhook_receiver import wait_until

MARKER = "RECEIVER-SAID-THIS"
SCRIPT = f"<script>alert('{MARKER}')</script><img src=x onerror=alert(1)>"


@dataclass
class Answer:
    """What the hostile receiver answers: raw status line and headers, then the body,
    optionally a byte at a time (`drip` seconds apart)."""

    head: bytes = b"HTTP/1.1 500 Internal Server Error\r\n"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drip: float = 0.0
    drip_headers: bool = False
    requests: list[bytes] = field(default_factory=list)


def _write(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    headers = {"Content-Length": str(len(answer.body)), **answer.headers}
    head = answer.head + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
    if answer.drip_headers:
        for byte in head:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(answer.drip)
    handler.wfile.write(head)
    if answer.drip:
        for byte in answer.body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(answer.drip)
    else:
        handler.wfile.write(answer.body)


@pytest.fixture
def hostile() -> Iterator[Callable[[Answer], str]]:
    """A receiver on 127.0.0.1 answering exactly what the test says; returns its URL."""
    servers = []

    def start(answer: Answer) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                answer.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
                with contextlib.suppress(OSError):  # the sender hung up, as a bounded one does
                    _write(self, answer)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hook"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _register(client, partner, url: str) -> dict:
    response = client.post(
        "/v1/webhooks/endpoints",
        json={"url": url, "events": ["webhook.test"]},
        headers=partner.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _attempts(db) -> int:
    with db.unit(write=False) as session:
        return session.scalar(select(func.count()).select_from(WebhookAttempt)) or 0


def _deliver(app, db) -> None:
    """Run the worker's delivery loop in this process until an attempt is recorded."""
    deliverer = Deliverer(app.extensions["vigie"])
    try:
        wait_until(lambda: deliverer.cycle() is not None and _attempts(db) > 0, timeout=30)
    finally:
        deliverer.shutdown()


def _answered(app, client, db, partner, answer: Answer, hostile) -> tuple[dict, dict]:
    """Register an endpoint at a receiver answering `answer`, send it a test event:
    (the endpoint, its first attempt as the owner reads it)."""
    endpoint = _register(client, partner, hostile(answer))
    queued = client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    assert queued.status_code == 202
    _deliver(app, db)
    deliveries = client.get(
        f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=partner.headers
    )
    assert deliveries.status_code == 200
    assert deliveries.mimetype == "application/json"
    return endpoint, deliveries.get_json()[0]["attempts"][0]


# -- what a partner's receiver answers --------------------------------------------------------


def test_a_huge_html_answer_is_kept_as_a_1_kib_excerpt_for_its_owner_only(
    app, client, db, partner, make_partner, make_staff, hostile
):
    body = (SCRIPT * 200_000).encode()[: 8 * 1024 * 1024]  # 8 MiB of markup
    answer = Answer(headers={"Content-Type": "text/html"}, body=body)
    endpoint, attempt = _answered(app, client, db, partner, answer, hostile)
    assert attempt["status_code"] == 500
    assert attempt["error"] == "http_500"
    excerpt = attempt["response_body"]
    assert len(excerpt) <= MAX_BODY_EXCERPT == 1024
    assert excerpt == body[:1024].decode()  # the owner's own bytes, as text, not rendered
    # Nobody else reads it: another partner, and no staff page.
    other = make_partner("Autre plateforme")
    theirs = client.get(
        f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=other.headers
    )
    assert theirs.status_code == 404
    assert MARKER not in theirs.get_data(as_text=True)
    _assert_no_staff_page_shows(app, make_staff, MARKER)


def _assert_no_staff_page_shows(app, make_staff, text: str) -> None:
    for role in ("operator", "supervisor", "admin", "editor"):
        staff = make_staff(role, f"{role} api10")
        for url in ("/v1/triage/queue", "/v1/shelters", "/v1/audit", "/v1/stats/indicators"):
            answer = app.test_client().get(url, headers=staff.headers)
            assert text not in answer.get_data(as_text=True), (role, url)
    anonymous = Console(app.test_client())
    assert text not in anonymous.get("/console/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xff\xfe\xfdnot utf-8 \xc3(", "\ufffd\ufffd\ufffdnot utf-8 \ufffd("),
        (b"nul \x00 in the middle", "nul \ufffd in the middle"),
        ("é" * 700, "é" * 512),  # 1,400 bytes of 2-byte characters: 1 KiB of them
    ],
)
def test_any_bytes_are_stored_as_safe_text(app, client, db, partner, hostile, body, expected):
    raw = body.encode() if isinstance(body, str) else body
    _, attempt = _answered(app, client, db, partner, Answer(body=raw), hostile)
    assert attempt["response_body"] == expected
    assert len(attempt["response_body"].encode()) <= 2 * MAX_BODY_EXCERPT


def test_a_redirect_answer_is_recorded_as_a_failure_and_its_target_not_echoed(
    app, client, db, partner, hostile
):
    answer = Answer(
        head=b"HTTP/1.1 302 Found\r\n",
        headers={"Location": "http://169.254.169.254/latest/meta-data/"},
        body=b"moved",
    )
    _, attempt = _answered(app, client, db, partner, answer, hostile)
    assert (attempt["status_code"], attempt["error"]) == (302, "http_302")
    assert attempt["response_body"] == "moved"
    assert "169.254.169.254" not in json.dumps(attempt)
    assert len(answer.requests) == 1  # once, and nothing else was called


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_slow_drip_is_cut_at_the_total_timeout(hostile, where):
    """A byte every 50 ms never trips the socket's read timeout; the total deadline (1 s
    here, 15 s in service) does, in the headers as in the body."""
    answer = Answer(body=b"x" * 2000, drip=0.05, drip_headers=where == "headers")
    url = hostile(answer)
    sender = outbound.Client(outbound.Policy(https_only=False, allow_private=True))
    sender.total_timeout = 1.0
    started = time.monotonic()
    result = sender.post(url, body=b"{}", headers={})
    took = time.monotonic() - started
    sender.close()
    assert (result.status, result.error, result.body) == (None, "timeout", b"")
    assert took < 3.0, took  # the drip would have lasted 100 s


# -- what a shelter network sends and answers -----------------------------------------------------


@pytest.fixture
def forwarded(app, client, partner, make_staff, post_report):
    network = create_network(app, "http://127.0.0.1:9/intake")
    admin, operator = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network, capacity_available=2)
    report_id = report(post_report, partner, "API10-1")
    return network, refer(client, operator, report_id, target["id"]), operator, report_id


@pytest.mark.parametrize(
    "extra",
    [
        {"outcome": ["accepted"]},
        {"outcome": {"$ne": None}},
        {"outcome": 1},
        {"referral_id": 12345},
        {"referral_id": {"id": "ref_x"}},
        {"reason": {"html": SCRIPT}},
        {"shelter": {"name": SCRIPT}},
        {"comment": SCRIPT},
        {"outcome": SCRIPT},
    ],
)
def test_an_outcome_with_unexpected_fields_or_types_is_422_and_nothing_is_stored(
    client, db, forwarded, extra
):
    network, referral, operator, report_id = forwarded
    body = {"referral_id": referral["id"], "outcome": "accepted", **extra}
    with db.unit(write=False) as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post(OUTCOMES_URL, json=body, headers=network.headers)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert MARKER not in response.get_data(as_text=True)  # the problem does not echo it
    with db.unit(write=False) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    listed = client.get(f"/v1/triage/reports/{report_id}/referrals", headers=operator.headers)
    assert [r["status"] for r in listed.get_json()] == [referral["status"]]
    assert MARKER not in listed.get_data(as_text=True)


@pytest.mark.parametrize("raw", [b"[]", b'"accepted"', b"null", b"\xff\xfe", b'{"a":' * 50])
def test_an_outcome_that_is_not_an_object_is_a_4xx(client, forwarded, raw):
    network = forwarded[0]
    response = client.post(
        OUTCOMES_URL,
        data=raw,
        headers={**network.headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.get_data()[:200]
    assert response.mimetype == "application/problem+json"


def test_a_network_intake_answer_is_shown_to_no_partner_nor_staff(
    app, client, db, partner, make_staff, post_report, hostile
):
    """The intake's answer is MIPROF's to read in the database, not a page's or a partner's."""
    url = hostile(Answer(headers={"Content-Type": "text/html"}, body=SCRIPT.encode()))
    network = create_network(app, url)
    admin, operator = make_staff("admin"), make_staff()
    target = network_shelter(client, admin, network, capacity_available=2)
    refer(client, operator, report(post_report, partner, "API10-2"), target["id"])
    _deliver(app, db)
    with db.unit(write=False) as session:
        stored = session.scalars(select(WebhookAttempt.response_body)).all()
    assert stored
    assert all(len(text or "") <= MAX_BODY_EXCERPT for text in stored)
    assert client.get("/v1/webhooks/endpoints", headers=partner.headers).get_json() == []
    _assert_no_staff_page_shows(app, make_staff, MARKER)

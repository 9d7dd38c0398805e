"""Slow clients against gunicorn alone and against the shipped topology (nginx in front).

Opens connections that send headers and part of a body (or part of the headers) and then
nothing, and meanwhile times normal requests (health checks and report posts, one after the
other). Writes the figures to docs/PERFORMANCE.md. tests/deploy/test_nginx.py asserts the
topology's budget (p99 under 100 ms with 50 slow clients) on every CI run.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import machine, write_section
from live import vigie_server
from payloads import stay_report
from topology import (
    SLOW_HEADERS,
    SLOW_POST,
    nginx_in_front,
    open_slow_client,
    percentile,
)

REQUESTS = 400
DIRECT_SLOW = 2
DIRECT_REQUESTS = 6


def _timed(session: requests.Session, base: str, key: str, count: int) -> list[float]:
    headers = {"Authorization": f"Bearer {key}"}
    durations = []
    for i in range(count):
        started = time.perf_counter()
        try:
            if i % 4:
                session.get(base + "/healthz", timeout=60)
            else:
                body = stay_report(partner_reference=f"bench-{time.time_ns()}")
                session.post(base + "/v1/reports", json=body, headers=headers, timeout=60)
        except requests.RequestException:
            pass  # counted by its duration: the client waited that long for nothing
        durations.append(time.perf_counter() - started)
    return durations


def _row(label: str, durations: list[float]) -> str:
    ms = [d * 1000 for d in durations]
    return (
        f"| {label} | {len(ms)} | {percentile(ms, 0.5):.1f} | {percentile(ms, 0.99):.1f} "
        f"| {max(ms):.1f} |"
    )


def _held(port: int, context: ssl.SSLContext | None, count: int) -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    for i in range(count):
        send = (SLOW_POST, SLOW_HEADERS)[i % 2]
        stack.enter_context(open_slow_client("127.0.0.1", port, context, send=send))
    return stack


def _measure(directory: Path) -> list[str]:
    rows = []
    with vigie_server(directory / "server", workers=2) as server:
        created = server.vigie("partner", "create", "--name", "Bench", "--json")
        key = json.loads(created)["api_key"]
        port = int(server.url.rsplit(":", 1)[1])
        with requests.Session() as session:
            rows.append(_row("gunicorn alone", _timed(session, server.url, key, 100)))
            with _held(port, None, DIRECT_SLOW):
                durations = _timed(session, server.url, key, DIRECT_REQUESTS)
            rows.append(_row(f"gunicorn alone, {DIRECT_SLOW} slow clients", durations))
        with (
            nginx_in_front(server.url, directory / "nginx") as proxy,
            proxy.session() as session,
        ):
            session.get(proxy.url + "/healthz")
            rows.append(_row("nginx + gunicorn", _timed(session, proxy.url, key, REQUESTS)))
            with _held(proxy.port, proxy.context(), 50):
                durations = _timed(session, proxy.url, key, REQUESTS)
            rows.append(_row("nginx + gunicorn, 50 slow clients", durations))
    return rows


INTRO = """## Slow clients (`bench/slow_clients.py`)

Normal requests one after the other (three `GET /healthz`, then one `POST /v1/reports`;
SQLite, 2 gunicorn sync workers) while other connections send their headers and part of a
100-byte body, or part of their headers, and then nothing. Without a proxy each slow
connection holds one of the two sync workers for as long as gunicorn waits on it (here about
2 s each; before the app stopped reading bodies ahead of authentication, 32 s and a 500);
behind the shipped nginx configuration (`config/nginx/vigie.conf`) they hold only nginx
connections, and the test `tests/deploy/test_nginx.py` asserts p99 < 100 ms with 50 of them.

| setup | requests | p50 ms | p99 ms | max ms |
| --- | ---: | ---: | ---: | ---: |
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "server").mkdir()
        rows = _measure(Path(tmp))
    body = INTRO + "\n".join(rows) + f"\n\nMachine: {machine()}.\n"
    write_section("slow-clients", body)
    print(body)


if __name__ == "__main__":
    main()

"""Webhook delivery: deliveries/s from one worker, and commit-to-delivery latency.

- Throughput: N `report.received` events are committed, then one `vigie worker` process
  delivers them to a local receiver answering 200 at once (PostgreSQL). Deliveries/s is
  counted from the first to the last arrival at the receiver.
- Latency: with the worker running, reports are POSTed to the API (gunicorn, 2 workers);
  the time from sending the POST (an upper bound of the commit) to the receiver getting
  the signed `report.received` is measured per report (p50/p99).

Run: .venv/bin/python bench/webhooks.py  (needs PostgreSQL on 127.0.0.1:5432)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cryptography.fernet import Fernet
from standardwebhooks import Webhook

import common
from payloads import stay_report
from vigie.audit.service import Who

URL = os.environ.get(
    "VIGIE_BENCH_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/vigie_bench_webhooks",
)
EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
REPORTS = int(os.environ.get("BENCH_WEBHOOK_REPORTS", "300"))
VIGIE = str(Path(sys.executable).parent / "vigie")


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, float] = {}
        self.by_report: dict[str, float] = {}
        self.secret: str = ""
        self.bad = 0


def receiver(arrivals: Arrivals) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real receiver

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            now = time.monotonic()
            try:
                payload = Webhook(arrivals.secret).verify(body, dict(self.headers.items()))
            except Exception:
                payload = None
            with arrivals.lock:
                if payload is None:
                    arrivals.bad += 1
                else:
                    arrivals.times.setdefault(self.headers["webhook-id"], now)
                    report = payload["data"].get("report_id")
                    if report:
                        arrivals.by_report.setdefault(report, now)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    common.reset_postgres(URL)
    var = tempfile.mkdtemp(prefix="vigie-bench-webhooks-")
    env = {
        "VIGIE_ENV": "development",
        "VIGIE_DATABASE_URL": URL,
        "VIGIE_SECRET_KEY": "bench-secret-" + "x" * 40,
        "VIGIE_DATA_KEY": Fernet.generate_key().decode(),
        "VIGIE_VAR_DIR": var,
        "VIGIE_LOG_LEVEL": "WARNING",
        "VIGIE_RATELIMIT_ENABLED": "false",  # one key at full speed: measure the service
        "VIGIE_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    os.environ.update(env)

    from vigie import migrate
    from vigie.app import create_app
    from vigie.outbox import service as outbox
    from vigie.partners import service as partners
    from vigie.webhooks import service as webhooks

    app = create_app()
    runtime = app.extensions["vigie"]
    migrate.upgrade(runtime.db.engine)
    arrivals = Arrivals()
    server, hook = receiver(arrivals)
    settings = webhooks.Settings.from_config(runtime.config)
    with runtime.db.unit() as session:
        partner, key = partners.create(
            session=session, who=Who.system("bench"), name="Bench", scopes=["reports:write"]
        )
        _, arrivals.secret = webhooks.create_endpoint(
            session=session,
            crypto=runtime.crypto,
            settings=settings,
            partner_id=partner.id,
            url=hook,
            events=["report.received"],
        )
        partner_id = partner.id
    with runtime.db.unit() as session:
        for n in range(EVENTS):
            outbox.emit(
                session=session,
                type="report.received",
                partner_id=partner_id,
                data={"report_id": f"rep_bench{n}", "status": "received", "priority": "P3"},
            )

    # -- throughput ----------------------------------------------------------------
    command = [VIGIE, "worker"]
    if os.environ.get("BENCH_PROFILE"):  # cProfile the worker: BENCH_PROFILE=/tmp/worker.prof
        command = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"], *command]
    worker = subprocess.Popen(command, env={**os.environ, **env})
    deadline = time.monotonic() + 600
    while len(arrivals.times) < EVENTS and time.monotonic() < deadline:
        time.sleep(0.1)
    arrived = sorted(arrivals.times.values())
    cpu = cpu_seconds(worker.pid)
    span = arrived[-1] - arrived[0]
    throughput = (len(arrived) - 1) / span if span > 0 else float("nan")
    cpu_ms = cpu / len(arrived) * 1000
    print(f"throughput: {len(arrived)} deliveries in {span:.2f}s = {throughput:,.0f}/s")
    print(f"worker CPU: {cpu:.1f}s, {cpu_ms:.2f} ms per delivery (startup included)")

    # -- commit-to-delivery latency -------------------------------------------------
    arrivals.by_report.clear()
    latencies: list[float] = []
    with common.gunicorn("vigie.app:create_app()", env=env) as base:
        sent: dict[str, float] = {}
        for n in range(REPORTS):
            body = stay_report(partner_reference=f"BENCH-{n}")
            request = urllib.request.Request(
                f"{base}/v1/reports",
                data=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                method="POST",
            )
            started = time.monotonic()
            with urllib.request.urlopen(request) as response:
                sent[json.loads(response.read())["id"]] = started
            time.sleep(0.02)  # about 40 reports/s, far above real traffic
        deadline = time.monotonic() + 30
        while len(set(sent) & set(arrivals.by_report)) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
        latencies = sorted(
            arrivals.by_report[r] - t for r, t in sent.items() if r in arrivals.by_report
        )
    worker.terminate()
    worker.wait(timeout=30)
    server.shutdown()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"latency: {len(latencies)}/{REPORTS} reports, p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    threads = runtime.config.get("worker_delivery_threads")
    verdict_tp = "met" if throughput >= 500 else f"missed by {500 - throughput:,.0f}/s"
    verdict_lat = "met" if p50 < 1000 else "missed"
    common.write_section(
        "webhooks",
        f"""
## Webhook delivery (PostgreSQL, one worker)

{common.machine()}

One `vigie worker` process ({threads} sender threads) delivering to a local receiver
that verifies each signature with `standardwebhooks` and answers 200 at once
(`bench/webhooks.py`). Throughput is counted from the first to the last arrival;
latency is from sending the report's POST (an upper bound of its commit) to the receiver
getting the signed `report.received`, with the worker polling every
{runtime.config.get("worker_poll_seconds")} s when idle.

| measure | figure | target |
| --- | ---: | --- |
| deliveries/s, one worker, {len(arrived):,} events | {throughput:,.0f} | ≥ 500 ({verdict_tp}) |
| worker CPU per delivery (user + system) | {cpu_ms:.2f} ms | |
| commit → delivery p50 ({len(latencies)} reports) | {p50:.0f} ms | < 1 s ({verdict_lat}) |
| commit → delivery p99 | {p99:.0f} ms | |
| deliveries whose signature did not verify | {arrivals.bad} | 0 |
""",
    )


if __name__ == "__main__":
    main()

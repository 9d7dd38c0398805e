"""Several processes, nothing in process memory needed for correctness: two API processes and
two workers on one PostgreSQL database take 5,000 reports posted concurrently, some retried at
the same moment under the same Idempotency-Key, and the partner's receiver gets each report's
`report.received` once, signed."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from live import vigie_server
from payloads import stay_report
from vigie.reports.models import Report
from webhook_receiver import Receiver, start_receiver, start_worker, stop_worker, wait_until

pytestmark = pytest.mark.slow
TOTAL = 5000
RETRIED_EVERY = 10  # every tenth report is sent twice at once, to both API processes
THREADS = 16


def _postgres_server_url() -> str | None:
    """The suite's PostgreSQL server. The test is about PostgreSQL and takes a minute, so a run
    with both passes (`make test` in CI) runs it once, in the PostgreSQL pass."""
    url = os.environ.get("VIGIE_TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    if os.environ.get("VIGIE_TEST_POSTGRES_URL"):
        pytest.skip("runs in this run's PostgreSQL pass (VIGIE_TEST_POSTGRES_URL is set)")
    return None


@contextlib.contextmanager
def _fresh_database() -> Iterator[str]:
    """A new database on the suite's PostgreSQL server, dropped afterwards."""
    server = _postgres_server_url()
    if server is None:
        pytest.skip("needs PostgreSQL (VIGIE_TEST_POSTGRES_URL); CI sets it and fails without")
    url = make_url(server)
    name = f"vigie_processes_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Poster:
    """Posts reports from many threads, one HTTP session per thread, retrying a 409 (the same
    key still being processed elsewhere) as a partner's client would."""

    def __init__(self, urls: list[str], key: str) -> None:
        self.urls, self.key = urls, key
        self.local = threading.local()
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def post(self, number: int, server: int) -> tuple[int, str]:
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        headers = {"Authorization": f"Bearer {self.key}", "Idempotency-Key": f"key-{number}"}
        body = stay_report(partner_reference=f"proc-{number}")
        for _ in range(200):
            response = session.post(
                self.urls[server] + "/v1/reports", json=body, headers=headers, timeout=60
            )
            with self.lock:
                self.statuses[response.status_code] += 1
            if response.status_code != 409:
                break
            time.sleep(0.02)  # the client's back-off while the first attempt finishes
        return response.status_code, response.json().get("id", "")


def test_two_api_processes_and_two_workers_store_and_deliver_each_report_once(tmp_path):
    receiver = Receiver()
    http_server, _ = start_receiver(receiver)
    with _fresh_database() as database_url, contextlib.ExitStack() as stack:
        env = {
            "VIGIE_DATABASE_URL": database_url,
            "VIGIE_DATA_KEY": Fernet.generate_key().decode(),
            "VIGIE_WEBHOOK_ALLOW_PRIVATE": "true",
            "VIGIE_LOG_LEVEL": "WARNING",
            # 5,000 writes from one key in a minute is this test's load, not abuse: the
            # limits have their own tests (tests/security/test_api4_resource_consumption.py).
            "VIGIE_RATELIMIT_ENABLED": "false",
        }
        apis = []
        for index in range(2):
            directory = tmp_path / f"api{index}"
            directory.mkdir()
            apis.append(stack.enter_context(vigie_server(directory, workers=1, env=env)))
        created = json.loads(apis[0].vigie("partner", "create", "--name", "P", "--json"))
        endpoint = requests.post(
            apis[1].url + "/v1/webhooks/endpoints",
            json={"url": receiver.url, "events": ["report.received"]},
            headers={"Authorization": f"Bearer {created['api_key']}"},
            timeout=30,
        )
        assert endpoint.status_code == 201, endpoint.text
        receiver.secrets.append(endpoint.json()["secret"])
        config = SimpleNamespace(
            database_url=database_url,
            secret_key=apis[0].env["VIGIE_SECRET_KEY"],
            data_key=env["VIGIE_DATA_KEY"],
            var_dir=str(tmp_path / "worker-var"),
        )
        started = [start_worker(config, VIGIE_WEBHOOK_LEASE_SECONDS="60") for _ in range(2)]

        poster = Poster([api.url for api in apis], created["api_key"])
        tasks = [(n, n % 2) for n in range(TOTAL)]
        tasks += [(n, 1 - n % 2) for n in range(0, TOTAL, RETRIED_EVERY)]
        tasks.sort(key=lambda task: task[0])  # a report and its retry are sent side by side
        began = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(lambda task: (task[0], *poster.post(*task)), tasks))
        posting_s = time.monotonic() - began

        assert not [s for s in poster.statuses if s >= 500], poster.statuses
        assert {status for _, status, _ in answers} == {201}, poster.statuses
        ids: dict[int, set[str]] = {}
        for number, _, report_id in answers:
            ids.setdefault(number, set()).add(report_id)
        assert all(len(found) == 1 for found in ids.values()), "a retry made a second report"
        expected = {found.pop() for found in ids.values()}
        assert len(expected) == TOTAL

        engine = create_engine(database_url)
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(Report.__table__))
        engine.dispose()
        assert stored == TOTAL

        def delivered() -> set[str]:
            return {
                d.payload["data"]["report_id"]
                for d in list(receiver.deliveries)
                if d.payload and d.payload["type"] == "report.received"
            }

        wait_until(lambda: delivered() >= expected, timeout=180, waiting_for="every delivery")
        delivering_s = time.monotonic() - began
        for worker in started:
            assert stop_worker(worker) == 0
        receiver.settle()
        assert all(d.verified_by == [0] for d in receiver.deliveries), "a bad signature"
        assert max(receiver.ids().values()) == 1, "an event was delivered twice"
        _record(posting_s, delivering_s, poster.statuses)
    http_server.shutdown()
    http_server.server_close()


def _record(posting_s: float, delivering_s: float, statuses: Counter[int]) -> None:
    """The figures, for `bench/processes.py` (which runs this test and writes them to
    docs/PERFORMANCE.md) when it asks for them."""
    target = os.environ.get("VIGIE_BENCH_FIGURES")
    if target:
        figures = {
            "reports": TOTAL,
            "requests": sum(statuses.values()),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "threads": THREADS,
            "posting_s": round(posting_s, 1),
            "delivered_after_s": round(delivering_s, 1),
        }
        Path(target).write_text(json.dumps(figures))

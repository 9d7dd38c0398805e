"""The database-outage scenario, shared by its test and its benchmark.

A live `vigie serve` (gunicorn, 2 workers) and a `vigie worker` on a throw-away PostgreSQL
cluster; a few threads post reports without pause. Once reports are acknowledged the cluster
is stopped (`pg_ctl stop -m immediate`, a crash), posting goes on until enough requests have
been answered during the outage, then the cluster is started again and posting goes on until
reports are acknowledged again. Then, a lock held on the reports table by another connection
(a database that does not answer in time) until enough requests have been answered, and
released. Last, a frozen server: every process of the cluster stopped by SIGSTOP (nothing is
answered, not even the pool's ping or a new connection) until enough requests have been
answered; then SIGCONT. `run_outage` returns every answer, the stored report ids
and the processes' logs; tests/test_database_outage.py checks them, bench/outage.py writes
the figures to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from live import BIN, vigie_server
from payloads import stay_report
from pg_cluster_support import Cluster, throwaway_cluster

CONNECT_TIMEOUT = 2  # seconds; libpq's minimum
STATEMENT_TIMEOUT_MS = 1000
# A request during the outage may wait for: one statement or ping (the server's statement
# timeout; against a frozen server, the client's deadline, one second later), then a new
# connection.
BOUND_SECONDS = STATEMENT_TIMEOUT_MS / 1000 + 1 + CONNECT_TIMEOUT
SLOW_503S = 3  # answers awaited under the lock and frozen: each takes a timeout
CLIENT_TIMEOUT = 30.0  # what "hung" means for the load threads


@dataclass
class Answer:
    started: float  # monotonic
    finished: float
    status: int  # 0: no HTTP answer (connection error or client timeout)
    report_id: str | None = None
    retry_after: str | None = None

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass
class Outage:
    """What happened, with the monotonic times of each phase."""

    answers: list[Answer] = field(default_factory=list)
    stopped_at: float = 0.0  # cluster stopped
    restarted_at: float = 0.0  # cluster accepting connections again
    recovered_at: float = 0.0  # first acknowledged report after the restart
    locked_at: float = 0.0
    unlocked_at: float = 0.0
    frozen_at: float = 0.0  # every process of the cluster stopped by SIGSTOP
    thawed_at: float = 0.0
    stored: set[str] = field(default_factory=set)
    server_log: str = ""
    worker_log: str = ""
    worker_alive: bool = False
    password: str = ""

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if start <= a.started and a.finished <= end]

    @property
    def acknowledged(self) -> set[str]:
        return {a.report_id for a in self.answers if a.status == 201 and a.report_id}

    @property
    def during_outage(self) -> list[Answer]:
        """Requests started while the cluster was down (answered whenever)."""
        return [a for a in self.answers if self.stopped_at <= a.started < self.restarted_at]

    def server_seconds(self, status: int) -> list[float]:
        """How long the API processes spent on each request answered `status` (their log)."""
        spent = []
        for line in self.server_log.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("message") == "request" and entry.get("status") == status:
                    spent.append(entry["duration_ms"] / 1000)
        return spent

    @property
    def during_lock(self) -> list[Answer]:
        return [a for a in self.answers if self.locked_at <= a.started < self.unlocked_at]

    @property
    def during_freeze(self) -> list[Answer]:
        return [a for a in self.answers if self.frozen_at <= a.started < self.thawed_at]


class Load:
    """`threads` clients posting reports back to back until stopped."""

    def __init__(self, url: str, key: str, threads: int) -> None:
        self.url, self.key = url, key
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._post_until_stopped, args=(n,), daemon=True)
            for n in range(threads)
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def count(self, status: int, since: float) -> int:
        with self.lock:
            return sum(1 for a in self.answers if a.status == status and a.started >= since)

    def _post_until_stopped(self, thread: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            answer = self._post(f"OUT-{thread}-{n}")
            with self.lock:
                self.answers.append(answer)

    def _post(self, reference: str) -> Answer:
        request = urllib.request.Request(
            self.url + "/v1/reports",
            data=json.dumps(stay_report(partner_reference=reference)).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT) as response:
                body = json.loads(response.read())
                return Answer(started, time.monotonic(), response.status, body.get("id"))
        except urllib.error.HTTPError as error:
            error.read()
            retry_after = error.headers.get("Retry-After")
            return Answer(started, time.monotonic(), error.code, retry_after=retry_after)
        except OSError:
            return Answer(started, time.monotonic(), 0)


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _partner_key(cluster: Cluster) -> str:
    """A partner's key, created as `vigie partner create` would (without another process)."""
    from vigie.audit.service import Who
    from vigie.db import Database, make_engine
    from vigie.partners import service

    db = Database(make_engine(cluster.url))
    try:
        with db.unit() as session:
            _, key = service.create(
                session=session, who=Who.system("tests"), name="P", scopes=("reports:write",)
            )
        return key
    finally:
        db.dispose()


def _stored(cluster: Cluster) -> set[str]:
    engine = create_engine(cluster.url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(text("SELECT public_id FROM reports")))
    finally:
        engine.dispose()


@contextlib.contextmanager
def _table_lock(cluster: Cluster):  # type: ignore[no-untyped-def]
    """Another connection holding an exclusive lock on the reports table."""
    engine = create_engine(cluster.url)
    try:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


def run_outage(directory: Path, *, threads: int = 4, per_phase: int = 10) -> Outage:
    """The scenario; `per_phase` answers are awaited in each phase (acknowledged before the
    stop, 503 during the outage, acknowledged after the restart, 503 under the lock)."""
    outage = Outage()
    with throwaway_cluster() as cluster:
        outage.password = cluster.password
        env = {
            "VIGIE_DATABASE_URL": cluster.url,
            "VIGIE_DB_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
            "VIGIE_DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
            "VIGIE_DB_POOL_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
            "VIGIE_DB_RETRY_AFTER_SECONDS": "2",
            "VIGIE_WORKER_POLL_SECONDS": "0.2",
        }
        with vigie_server(directory, workers=2, env=env) as server:
            worker_log = directory / "outage-worker.log"
            with worker_log.open("wb") as log:
                worker = subprocess.Popen(
                    [str(BIN / "vigie"), "worker"],
                    env=server.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    load = Load(server.url, _partner_key(cluster), threads)
                    _wait(lambda: b"worker started" in worker_log.read_bytes(), "the worker")
                    _phases(outage, cluster, load, per_phase, lambda: worker_log.read_bytes())
                    outage.worker_alive = worker.poll() is None
                finally:
                    worker.terminate()
                    worker.wait(timeout=30)
            outage.stored = _stored(cluster)
            outage.server_log = server.log.read_text("utf-8", errors="replace")
            outage.worker_log = worker_log.read_text("utf-8", errors="replace")
    return outage


def _phases(
    outage: Outage, cluster: Cluster, load: Load, per_phase: int, worker_log: Callable[[], bytes]
) -> None:
    with load:
        _wait(lambda: load.count(201, 0.0) >= per_phase, "reports acknowledged before the stop")
        outage.stopped_at = time.monotonic()
        cluster.stop("immediate")
        _wait(lambda: load.count(503, outage.stopped_at) >= per_phase, "503s during the outage")
        _wait(lambda: b"database unavailable" in worker_log(), "the worker to meet the outage")
        cluster.start()
        outage.restarted_at = time.monotonic()
        _wait(lambda: load.count(201, outage.restarted_at) >= 1, "a report acknowledged again")
        with load.lock:
            outage.recovered_at = min(
                a.finished
                for a in load.answers
                if a.status == 201 and a.started >= outage.restarted_at
            )
        _wait(lambda: load.count(201, outage.restarted_at) >= per_phase, "steady service again")
        with _table_lock(cluster):
            outage.locked_at = time.monotonic()
            _wait(lambda: load.count(503, outage.locked_at) >= SLOW_503S, "503s under the lock")
            outage.unlocked_at = time.monotonic()
        _wait(lambda: load.count(201, outage.unlocked_at) >= per_phase, "service after the lock")
        outage.frozen_at = time.monotonic()
        cluster.freeze()
        try:
            _wait(lambda: load.count(503, outage.frozen_at) >= SLOW_503S, "503s, frozen")
        finally:
            cluster.thaw()
        outage.thawed_at = time.monotonic()
        _wait(lambda: load.count(201, outage.thawed_at) >= per_phase, "service after the freeze")
    outage.answers = list(load.answers)

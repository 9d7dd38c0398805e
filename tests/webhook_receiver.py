"""A real HTTP receiver on 127.0.0.1 that verifies every delivery like a partner would,
helpers to start real `vigie worker` processes, and `wait_until` to poll with a deadline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

# behaviour(webhook_id, nth request for that id, nth request overall) -> (status, headers)
Behaviour = Callable[[str, int, int], tuple[int, dict[str, str]]]


def wait_until(
    predicate: Callable[[], bool],
    timeout: float = 30.0,
    *,
    waiting_for: str | Callable[[], str] = "the condition",
) -> float:
    """Poll `predicate` until it holds; returns the seconds it took, fails after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            what = waiting_for() if callable(waiting_for) else waiting_for
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


@dataclass
class Delivery:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any] | None
    verified_by: list[int]  # indexes of the secrets that verify it
    path: str
    at: float


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    behaviour: Behaviour | None = None
    delay: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        webhook_id = headers.get("webhook-id", "")
        verified, payload = [], None
        for index, secret in enumerate(list(self.secrets)):
            try:
                payload = Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError:
                pass
        with self.lock:
            per_id = sum(1 for d in self.deliveries if d.webhook_id == webhook_id) + 1
            overall = len(self.deliveries) + 1
            self.deliveries.append(
                Delivery(
                    webhook_id, headers, body, payload, verified, handler.path, time.monotonic()
                )
            )
        if self.delay:
            time.sleep(self.delay)
        status, extra = (
            (200, {}) if self.behaviour is None else self.behaviour(webhook_id, per_id, overall)
        )
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    # -- reading what arrived --------------------------------------------------

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(d.webhook_id for d in self.deliveries)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        wait_until(
            predicate, timeout, waiting_for=lambda: f"it; received {len(self.deliveries)} requests"
        )

    def wait_ids(self, expected: set[str], timeout: float = 30.0) -> None:
        self.wait_for(lambda: expected <= set(self.ids()), timeout)

    def settle(self, timeout: float = 30.0) -> None:
        """Return once every connection made before this call has been handled.

        A sender killed mid-request may have written a request that the receiver has
        accepted (or that waits in the listen queue) but not yet recorded; after `settle`,
        `deliveries` holds all of them. Connections are accepted in arrival order, so a
        request of ours waits for those before it.
        """
        url = self.url.rsplit("/", 1)[0] + "/__settle"
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            assert answer.status == 200


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        self.server.receiver.handle(self)  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        if self.path != "/__settle":
            self.send_error(404)
            return
        self.server.wait_for_earlier(self.request)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def server_activate(self) -> None:
        super().server_activate()
        self.progress = threading.Condition()
        self.accepted = 0
        self.numbers: dict[int, int] = {}  # id(connection) -> its place in arrival order
        self.unfinished: set[int] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.progress:  # in the accepting thread: numbers follow arrival order
            self.accepted += 1
            self.numbers[id(request)] = self.accepted
            self.unfinished.add(self.accepted)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.progress:
                self.unfinished.discard(self.numbers.pop(id(request)))
                self.progress.notify_all()

    def wait_for_earlier(self, request: Any, timeout: float = 30.0) -> None:
        with self.progress:
            mine = self.numbers[id(request)]
            settled = self.progress.wait_for(
                lambda: not any(n < mine for n in self.unfinished), timeout
            )
        assert settled, "earlier connections still being handled"


def start_receiver(receiver: Receiver) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = receiver  # type: ignore[attr-defined]
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


# -- real worker processes ------------------------------------------------------

VIGIE = str(Path(sys.executable).parent / "vigie")


def worker_env(config: Any, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env.update(
        {
            "VIGIE_ENV": "test",
            "VIGIE_DATABASE_URL": config.database_url,
            "VIGIE_SECRET_KEY": config.secret_key,
            "VIGIE_DATA_KEY": config.data_key,
            "VIGIE_VAR_DIR": config.var_dir,
            "VIGIE_LOG_LEVEL": "WARNING",
            "VIGIE_WEBHOOK_ALLOW_PRIVATE": "true",
            "VIGIE_WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.2,0.2,0.2",
            "VIGIE_WEBHOOK_RETRY_JITTER": "0",
            "VIGIE_WORKER_POLL_SECONDS": "0.05",
        }
    )
    env.update(overrides)
    return env


class Worker(subprocess.Popen[bytes]):
    """A `vigie worker` process. Its log (JSON lines on stderr) is passed on to our stderr,
    which pytest captures, and kept so that a test can wait for a line."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(
            [VIGIE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.log: list[str] = []
        threading.Thread(target=self._pass_on_stderr, daemon=True).start()

    def _pass_on_stderr(self) -> None:
        assert self.stderr is not None
        with self.stderr:
            for line in self.stderr:
                self.log.append(line.decode("utf-8", errors="replace"))
                os.write(2, line)

    def wait_logged(self, text: str, timeout: float = 30.0) -> None:
        wait_until(
            lambda: any(text in line for line in list(self.log)),
            timeout,
            waiting_for=f"{text!r} in the worker's log",
        )


def start_worker(config: Any, **overrides: str) -> Worker:
    return Worker(worker_env(config, **overrides))


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def payload_types(receiver: Receiver) -> list[str]:
    return [json.loads(d.body)["type"] for d in receiver.deliveries]


# -- a periodic job for the scheduler tests ------------------------------------

RUNS: list[float] = []


def count_run(_runtime: Any) -> None:
    RUNS.append(time.monotonic())


FAILING_JOB_TEXT = "Mme Dupont, 06 12 34 56 78, logée au 3 rue des Lilas"


def failing_run(_runtime: Any) -> None:
    """A periodic job whose error message quotes personal data (as a bug might)."""
    raise ValueError(FAILING_JOB_TEXT)

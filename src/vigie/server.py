"""gunicorn as the production server: several stateless workers, no scheduler.

The workers are gunicorn's sync workers, except that the errors gunicorn answers itself,
before the app sees the request (a request line over `limit_request_line`: 414; headers over
`limit_request_field_size` or `limit_request_fields`: 431; a request it cannot parse: 400),
are problem documents like every other error of the API, not gunicorn's HTML page.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.util import write_nonblock
from gunicorn.workers.sync import SyncWorker

from vigie.errors import PROBLEM_JSON, for_status, problem_body

log = logging.getLogger(__name__)

# gunicorn's exceptions for requests it refuses, and the status each gets (first match wins;
# the rest of ParseException is a 400). An error of the app's own response stays a 500.
_STATUSES: tuple[tuple[type[BaseException], int], ...] = (
    (http_errors.InvalidResponseHeader, 500),
    (http_errors.InvalidResponseHeaderName, 500),
    (http_errors.ConfigurationProblem, 500),
    (http_errors.LimitRequestLine, 414),
    (http_errors.LimitRequestHeaders, 431),
    (http_errors.UnsupportedTransferCoding, 501),
    (http_errors.ExpectationFailed, 417),
    (http_errors.ForbiddenProxyRequest, 403),
    (http_errors.ParseException, 400),
)


def status_for(exc: BaseException) -> int:
    for kind, status in _STATUSES:
        if isinstance(exc, kind):
            return status
    return 500


def problem_bytes(status: int, detail: str) -> bytes:
    """A complete HTTP/1.1 answer carrying the problem document for `status`."""
    body = problem_body(**_problem_fields(status, detail))
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _problem_fields(status: int, detail: str) -> dict[str, Any]:
    problem = for_status(status)
    return {"status": status, "slug": problem.slug, "detail": detail}


class ProblemWorker(SyncWorker):
    """gunicorn's sync worker, answering the requests gunicorn refuses with problem+json."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status = status_for(exc)
        if status >= 500:
            log.error("request failed in the server", extra={"error": type(exc).__name__})
        else:  # never the message: it quotes the request line or a header
            log.warning("request refused by the server", extra={"error": type(exc).__name__})
        try:
            write_nonblock(client, problem_bytes(status, self._detail(status)))
        except OSError:
            log.debug("could not send the error answer")

    def _detail(self, status: int) -> str:
        cfg = self.cfg
        if status == 414:
            return (
                f"The request line (method, path and query string) is longer than "
                f"{cfg.limit_request_line} bytes."
            )
        if status == 431:
            return (
                f"The request has more than {cfg.limit_request_fields} header fields or one "
                f"longer than {cfg.limit_request_field_size} bytes."
            )
        if status >= 500:
            return "An unexpected error occurred."
        return "The server could not parse this HTTP request."


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from vigie.app import create_app

        return create_app()


def _metrics_directory() -> dict[str, Any]:
    """prometheus_client's multiprocess mode: each worker writes its figures into one directory
    that /metrics sums (vigie/metrics.py). It must be set before any worker imports
    prometheus_client, and emptied at start: a previous run's files would count again.
    The operator's PROMETHEUS_MULTIPROC_DIR is used if set, else a temporary one, removed
    at exit. The hooks are gunicorn's: a dead worker's live figures are dropped."""
    given = os.environ.get(MULTIPROC_ENV)
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="vigie-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)

    def child_exit(_server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(directory))

    def on_exit(_server: Any) -> None:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)

    return {"child_exit": child_exit, "on_exit": on_exit}


def run_gunicorn(*, host: str, port: int, workers: int, **extra: Any) -> None:
    options = {
        **_metrics_directory(),
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "vigie.server.ProblemWorker",
        "accesslog": None,  # the app logs each request as JSON, without query strings
        "graceful_timeout": 20,
        "timeout": 30,
        "keepalive": 5,
        **extra,
    }
    _Gunicorn(options).run()

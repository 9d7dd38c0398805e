"""gunicorn as the production server: several stateless workers, no scheduler."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

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
        "worker_class": "sync",
        "accesslog": None,  # the app logs each request as JSON, without query strings
        "graceful_timeout": 20,
        "timeout": 30,
        "keepalive": 5,
        **extra,
    }
    _Gunicorn(options).run()

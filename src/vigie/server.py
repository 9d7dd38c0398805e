"""gunicorn as the production server: several stateless workers, no scheduler."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


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


def run_gunicorn(*, host: str, port: int, workers: int, **extra: Any) -> None:
    options = {
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

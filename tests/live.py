"""A real `vigie serve` (gunicorn) on a free loopback port, with its own SQLite file."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

BIN = Path(sys.executable).parent


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    log: Path

    def vigie(self, *args: str) -> str:
        return subprocess.run(
            [str(BIN / "vigie"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def vigie_server(
    directory: Path, *, workers: int = 2, settings: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env |= {
        "VIGIE_ENV": "development",
        "VIGIE_DATABASE_URL": f"sqlite:///{directory / 'live.db'}",
        "VIGIE_VAR_DIR": str(directory / "var"),
        "VIGIE_SECRET_KEY": "live-test-secret-" + "y" * 32,
        "VIGIE_DATA_KEY": Fernet.generate_key().decode(),
        "VIGIE_LOG_LEVEL": "INFO",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env |= settings or {}  # more VIGIE_* settings for this server
    server = LiveServer(f"http://127.0.0.1:{port}", env, directory / "server.log")
    server.vigie("db", "upgrade")
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "vigie"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(server.url + "/healthz", timeout=1):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(server.log.read_text()) from None
                    time.sleep(0.1)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=30)

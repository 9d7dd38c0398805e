"""What the rate limits cost a request: limits off, counted in memory, counted in Redis.

In-process (Flask test client, no network between client and app) on SQLite, so the
difference between the three apps is the limiter's work: one `charge` per partner request
(a counter increment in memory, or one Redis `INCR` script over loopback). The request is
`GET /v1/content` answered from the API worker's memory, the cheapest partner operation, so
the share of the limiter is at its largest. Rounds alternate between the apps and the median
is kept, so load from other processes on the machine hits all three alike.

    python -m bench.ratelimit [--redis redis://127.0.0.1:6379/14] [--requests 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from vigie import migrate, ratelimit
from vigie.app import create_app
from vigie.audit.service import Who
from vigie.db import make_engine
from vigie.partners import service as partners

ROUNDS = 7


def _apps(redis_url: str) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="vigie-bench-rl-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    base = {
        "env": "production",
        "database_url": url,
        "secret_key": "bench-secret-" + "r" * 40,
        "data_key": Fernet.generate_key().decode(),
        "var_dir": str(workdir),
        "log_level": "WARNING",
        "ratelimit_content_reads_per_minute": 10**9,  # counted, never refused
    }
    return {
        "limits off": create_app({**base, "ratelimit_enabled": False}),
        "memory": create_app(base),
        "redis": create_app(
            {**base, "redis_url": redis_url, "ratelimit_key_prefix": f"bench-{uuid.uuid4().hex}"}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    apps = _apps(args.redis)
    with apps["memory"].extensions["vigie"].db.unit() as session:
        _, key = partners.create(
            session=session, who=Who.system("bench"), name="Bench", scopes=("content:read",)
        )
    headers = {"Authorization": f"Bearer {key}"}
    clients = {name: app.test_client() for name, app in apps.items()}
    for client in clients.values():  # warm up: the content answer is memoized after the 1st
        for _ in range(200):
            assert client.get("/v1/content", headers=headers).status_code == 200
    timings: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(ROUNDS):
        for name, client in clients.items():
            started = time.perf_counter()
            for _ in range(args.requests):
                client.get("/v1/content", headers=headers)
            timings[name].append((time.perf_counter() - started) / args.requests * 1e6)
    off = statistics.median(timings["limits off"])
    print("| app | µs per request (median of rounds) | overhead |")
    print("| --- | ---: | ---: |")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.0f} | {median - off:+.0f} |")
    ratelimit.reset(apps["redis"])


if __name__ == "__main__":
    main()

"""Sustained POST /v1/reports under gunicorn (2 workers), SQLite and PostgreSQL, beside the
bare Flask echo under the same server: throughput and p50/p99 at 16 connections.

    python bench/ingest.py [--seconds 10] [--skip-postgres]

Writes the `ingest` section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from vigie.audit.service import Who

SCRIPT = Path(__file__).with_name("ingest.lua")
TARGET_SHARE = 0.35
TARGET_P99_MS = 25.0
POSTGRES_URL = os.environ.get(
    "VIGIE_BENCH_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/vigie_bench_reports",
)


def prepare(env: dict[str, str]) -> str:
    """Migrate the database and create a partner; returns its API key."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from vigie import migrate
        from vigie.app import create_app
        from vigie.partners import service

        app = create_app()
        runtime = app.extensions["vigie"]
        migrate.upgrade(runtime.db.engine)
        with runtime.db.unit() as session:
            _, key = service.create(
                session=session, who=Who.system("bench"), name="bench", scopes=["reports:write"]
            )
        runtime.db.dispose()
        return key
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def server_cpu_seconds(url: str) -> float:
    """CPU time (user + system) of the gunicorn master and workers listening on `url`."""
    bind = f"127.0.0.1:{url.rsplit(':', 1)[1]}".encode()
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        stats[int(proc.name)] = (ppid, cpu if b"gunicorn" in cmdline else -1.0)
        if bind in cmdline.split(b"\0") and b"gunicorn" in cmdline:
            master = int(proc.name)
    return sum(cpu for pid, (ppid, cpu) in stats.items() if master in (pid, ppid) and cpu >= 0)


def measure(
    app: str, path: str, env: dict[str, str], key: str, seconds: int
) -> tuple[common.WrkResult, float]:
    """wrk figures, and the server's CPU milliseconds per request (immune to other load)."""
    os.environ.update({"BENCH_PATH": path, "BENCH_KEY": key, "BENCH_RUN": f"r{time.time_ns()}"})
    with common.gunicorn(app, env=env) as url:
        common.wrk(url + path, script=SCRIPT, seconds=2)  # warm-up: imports, pools, caches
        os.environ["BENCH_RUN"] = f"r{time.time_ns()}"
        before = server_cpu_seconds(url)
        result = common.wrk(url + path, script=SCRIPT, seconds=seconds)
        cpu_ms = (server_cpu_seconds(url) - before) * 1000 / max(result.requests, 1)
        return result, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    base = {
        "VIGIE_ENV": "production",
        "VIGIE_SECRET_KEY": "bench-secret-" + "z" * 40,
        "VIGIE_DATA_KEY": Fernet.generate_key().decode(),
        "VIGIE_VAR_DIR": str(workdir / "var"),
        "VIGIE_LOG_LEVEL": "WARNING",
        "VIGIE_RATELIMIT_ENABLED": "false",  # one key at full speed: measure the service
    }
    results: list[tuple[str, common.WrkResult, float]] = []

    echo, echo_cpu = measure("bench.echo_app:create_app()", "/echo", base, "", args.seconds)
    results.append(("Flask JSON echo (ceiling)", echo, echo_cpu))

    databases = [("SQLite (WAL)", f"sqlite:///{workdir / 'bench.db'}")]
    if not args.skip_postgres:
        common.reset_postgres(POSTGRES_URL)
        databases.append(("PostgreSQL", POSTGRES_URL))
    for label, url in databases:
        env = {**base, "VIGIE_DATABASE_URL": url}
        key = prepare(env)
        result, cpu = measure("vigie.app:create_app()", "/v1/reports", env, key, args.seconds)
        results.append((f"POST /v1/reports, {label}", result, cpu))

    lines = [
        "## Ingestion: POST /v1/reports",
        "",
        f"Machine: {common.machine()}.",
        f"gunicorn, 2 sync workers; wrk, 2 threads, 16 connections, {args.seconds} s after a "
        "2 s warm-up; each request a valid stay report with a unique `partner_reference` "
        "(`bench/ingest.lua`). Logs at WARNING, production settings.",
        "",
        common.TABLE_HEADER.replace(" |\n", " | server CPU ms/request |\n", 1) + " ---: |",
        *(f"{result.row(label)} {cpu:.2f} |" for label, result, cpu in results),
        "",
        f"Load average when the run ended: {Path('/proc/loadavg').read_text().split()[0]} "
        f"on {os.cpu_count()} cores (other work on the machine shares them; the CPU column is "
        "what the server itself spent per request, which that load does not change).",
        "",
    ]
    for label, result, cpu in results[1:]:
        share = result.requests_per_second / echo.requests_per_second
        verdict = "meets" if share >= TARGET_SHARE and result.p99_ms < TARGET_P99_MS else "misses"
        lines.append(
            f"- {label}: {share:.0%} of the echo ceiling (target ≥ {TARGET_SHARE:.0%}), "
            f"p99 {result.p99_ms:.1f} ms (target < {TARGET_P99_MS:.0f} ms): {verdict} the target; "
            f"server CPU per request {cpu / echo_cpu:.1f} times the echo's."
        )
    text = "\n".join(lines)
    print(text)
    common.write_section("ingest", text)


if __name__ == "__main__":
    main()

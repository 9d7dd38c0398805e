"""Triage queue at volume: 10,000 and 1,000,000 reports, SQLite and PostgreSQL.

Fills the reports table in bulk (sqlite3 executemany / PostgreSQL COPY, not the API),
then measures with wrk, through gunicorn (2 workers), the first page of
GET /v1/triage/queue and two filtered pages, and writes the figures and the query
plans to docs/PERFORMANCE.md (section "triage").

The open backlog (the queue) is held at OPEN_BACKLOG reports at both scales: history
grows, the queue does not (operators close what they open). A second timing of the
counts query with a ten times larger backlog shows what a growing queue would cost.

Usage: python bench/triage.py [--sizes 10000,1000000] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from vigie import migrate
from vigie.audit.service import Who
from vigie.db import Database, make_engine
from vigie.operators import service as operators
from vigie.partners import service as partners
from vigie.reports.priority import RESPONSE_TIMES
from vigie.triage import service as triage

POSTGRES_URL = os.environ.get(
    "VIGIE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/vigie_bench_triage"
)
OPEN_BACKLOG = 5_000
PARTNERS = 20
DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
EXPLOITATION = ["sexual", "labour", "domestic_servitude", "forced_begging", "unknown"]
PRIORITY_WEIGHTS = {"P1": 3, "P2": 10, "P3": 35, "P4": 52}
OPEN_STATUS_WEIGHTS = {"received": 50, "in_review": 35, "referred": 15}
CLOSURES = ["no_grounds", "duplicate", "insufficient_information", "victims_protected", "other"]
FAKE_TOKEN = "gAAAAA" + "x" * 180  # the width of an encrypted description; never decrypted here
TABLE_HEADER = (
    "| scenario | requests/s | p50 ms | p99 ms | requests | non-2xx/3xx "
    "| service p50 ms (in process) | load average |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)
SCENARIOS = [
    ("first page", "/v1/triage/queue"),
    ("filtered: department=13", "/v1/triage/queue?department=13"),
    ("filtered: overdue=true", "/v1/triage/queue?overdue=true"),
]
WRK_SECONDS = int(os.environ.get("VIGIE_BENCH_SECONDS", "10"))


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite storage format for a UTC datetime (naive, microseconds)."""
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(total: int, open_count: int, partner_ids: list[int], now: datetime) -> Any:
    """Report rows, oldest first; the newest `open_count` are open, the rest closed."""
    rng = random.Random(total)
    priorities = list(PRIORITY_WEIGHTS)
    pweights = list(PRIORITY_WEIGHTS.values())
    statuses = list(OPEN_STATUS_WEIGHTS)
    sweights = list(OPEN_STATUS_WEIGHTS.values())
    span = timedelta(days=5 * 365).total_seconds()
    listings = max(1, total // 3)
    for i in range(total):
        # Received over five years, oldest first; the open backlog is the most recent slice.
        received = now - timedelta(seconds=span * (1 - i / total) + 1)
        priority = rng.choices(priorities, pweights)[0]
        is_open = i >= total - open_count
        status = rng.choices(statuses, sweights)[0] if is_open else "closed"
        reviewed = (
            None if status == "received" else received + timedelta(minutes=rng.randint(5, 600))
        )
        closed = reviewed + timedelta(days=rng.randint(1, 30)) if status == "closed" else None
        flight = rng.random() < 0.2
        minors = rng.choice([None, 0, 0, 1]) if priority in ("P1", "P2") else 0
        yield {
            "public_id": f"rep_bench{i:010d}",
            "partner_id": rng.choice(partner_ids),
            "partner_reference": f"bench-{i}",
            "context": "flight" if flight else "stay",
            "status": status,
            "priority": priority,
            "observed_at": received - timedelta(hours=2),
            "received_at": received,
            "updated_at": closed or reviewed or received,
            "due_at": received + RESPONSE_TIMES[priority],
            "first_reviewed_at": reviewed,
            "country": None if flight else "FR",
            "postcode": None,
            "department": None if flight else rng.choice(DEPARTMENTS),
            "listing_index": None if flight else f"{rng.randrange(listings):064x}",
            "flight_index": f"{rng.randrange(listings):064x}" if flight else None,
            "indicators": json.dumps(["frequent_visitors", "isolation"]),
            "suspected_exploitation": json.dumps([rng.choice(EXPLOITATION)]),
            "indicator_count": 2,
            "persons_count": rng.randint(1, 6),
            "minors": minors,
            "minors_involved": bool(minors),
            "in_immediate_danger": priority == "P1",
            "description_enc": FAKE_TOKEN,
            "reporter_role": "host",
            "contact_consent": False,
            "language": "fr",
            "closure_reason": rng.choice(CLOSURES) if closed else None,
            "closed_at": closed,
        }


def fill(engine: Engine, total: int, open_count: int) -> tuple[str, float]:
    """Partners, one operator, `total` reports. Returns the operator's token and the seconds."""
    db = Database(engine)
    with db.unit() as session:
        partner_ids = [
            partners.create(
                session=session,
                who=Who.system("bench"),
                name=f"Partner {n}",
                scopes=["reports:write"],
            )[0].id
            for n in range(PARTNERS)
        ]
        _, token = operators.create(
            session=session, who=Who.system("bench"), name="Bench operator", role="operator"
        )
    now = datetime.now(UTC)
    columns = list(next(_rows(1, 1, [1], now)))
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            sql = (  # our own column names
                f"INSERT INTO reports ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            batch: list[tuple[Any, ...]] = []
            cursor.execute("BEGIN")
            for row in _rows(total, open_count, partner_ids, now):
                batch.append(
                    tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in row.values())
                )
                if len(batch) == 50_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
            # Fold the bulk load's write-ahead log into the database file, as SQLite's
            # auto-checkpoint does in normal running; a 1 GB WAL would slow every read.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with cursor.copy(f"COPY reports ({', '.join(columns)}) FROM STDIN") as copy:
                for row in _rows(total, open_count, partner_ids, now):
                    copy.write_row(tuple(row.values()))
            raw.commit()
            driver = raw.driver_connection
            driver.autocommit = True  # VACUUM cannot run in a transaction
            driver.execute("VACUUM ANALYZE reports")
            driver.autocommit = False
    finally:
        raw.close()
    return token, time.perf_counter() - started


def plans(engine: Engine, filters: list[tuple[str, triage.QueueFilters]]) -> list[str]:
    """EXPLAIN the statements the queue endpoint runs, captured from the service itself."""
    out = []
    db = Database(engine)
    for label, queue_filters in filters:
        captured: list[tuple[str, Any]] = []

        def capture(
            _c: Any, _cur: Any, statement: str, params: Any, *_a: Any, into: list = captured
        ) -> None:
            into.append((statement, params))

        event.listen(engine, "before_cursor_execute", capture)
        try:
            with db.unit(write=False) as session:
                triage.queue(session=session, filters=queue_filters, limit=50, cursor=None)
                if label == "first page":
                    triage.queue_counts(session=session)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, params in captured:
                if "FROM reports" not in statement:
                    continue
                if engine.dialect.name == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                    plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
                else:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params)
                    plan = "\n".join(
                        row[0] if len(row[0]) < 160 else row[0][:150] + " …'::text[]))"
                        for row in cursor.fetchall()
                    )
                if "GROUP BY reports.status" in statement:
                    kind = "counts per status and priority"
                elif "count(*)" in statement and "due_at <" in statement:
                    kind = "overdue counts"
                elif "_index IN" in statement:
                    kind = f"related counts for the page ({label})"
                else:
                    kind = f"queue page ({label})"
                out.append(f"{kind}:\n\n```\n{plan}\n```")
            raw.rollback()
        finally:
            raw.close()
    return out


SCENARIO_FILTERS = {
    "first page": triage.QueueFilters(),
    "filtered: department=13": triage.QueueFilters(department="13"),
    "filtered: overdue=true": triage.QueueFilters(overdue=True),
}


def time_service(engine: Engine, filters: triage.QueueFilters, runs: int = 200) -> float:
    """Median milliseconds of what the endpoint asks the database (page + counts), in process."""
    db = Database(engine)
    samples = []
    with db.unit(write=False) as session:
        for _ in range(runs):
            started = time.perf_counter()
            triage.queue(session=session, filters=filters, limit=50, cursor=None)
            triage.queue_counts(session=session)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def time_counts(engine: Engine, runs: int = 50) -> float:
    """Median milliseconds of the queue counts, in process (no HTTP)."""
    db = Database(engine)
    samples = []
    with db.unit(write=False) as session:
        for _ in range(runs):
            started = time.perf_counter()
            triage.queue_counts(session=session)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def grow_backlog(engine: Engine, extra: int) -> None:
    """Reopen `extra` closed reports so the queue holds ten times more (for the counts timing)."""
    with engine.begin() as conn:
        ids = conn.execute(
            text("SELECT id FROM reports WHERE status = 'closed' ORDER BY id DESC LIMIT :n"),
            {"n": extra},
        ).scalars()
        id_list = list(ids)
        for start in range(0, len(id_list), 10_000):
            chunk = id_list[start : start + 10_000]
            conn.execute(
                text(  # integers from the database itself
                    "UPDATE reports SET status = 'in_review', closed_at = NULL "  # noqa: S608
                    f"WHERE id IN ({', '.join(str(i) for i in chunk)})"
                )
            )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def run_engine(name: str, sizes: list[int], tmp: Path) -> tuple[list[str], list[str]]:
    rows, notes = [], []
    for size in sizes:
        if name == "sqlite":
            path = tmp / f"triage-{size}.db"
            path.unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        else:
            common.reset_postgres(POSTGRES_URL)
            url = POSTGRES_URL
        engine = make_engine(url)
        migrate.upgrade(engine)
        open_count = min(OPEN_BACKLOG, size // 2)
        print(f"[{name}] filling {size:,} reports ({open_count:,} open)…", flush=True)
        token, seconds = fill(engine, size, open_count)
        notes.append(f"- {name}, {size:,} reports: filled in {seconds:.0f} s")
        env = {
            "VIGIE_ENV": "development",
            "VIGIE_DATABASE_URL": url,
            "VIGIE_SECRET_KEY": secrets.token_urlsafe(48),
            "VIGIE_DATA_KEY": Fernet.generate_key().decode(),
            "VIGIE_LOG_LEVEL": "WARNING",
            "VIGIE_RATELIMIT_ENABLED": "false",  # one key at full speed: measure the service
            "VIGIE_VAR_DIR": str(tmp / "var"),
        }
        with common.gunicorn("vigie.app:create_app()", workers=2, env=env) as base:
            auth = {"Authorization": f"Bearer {token}"}
            for _, path_ in SCENARIOS:  # warm-up: imports, connections, page cache
                common.wrk(base + path_, connections=2, threads=1, seconds=2, headers=auth)
            for label, path_ in SCENARIOS:
                result = common.wrk(
                    base + path_,
                    connections=2,
                    threads=1,
                    seconds=WRK_SECONDS,
                    headers=auth,
                )
                service_ms = time_service(engine, SCENARIO_FILTERS[label])
                load = os.getloadavg()[0]
                rows.append(
                    result.row(f"{name}, {size:,} reports, {label}")
                    + f" {service_ms:.2f} | {load:.1f} |"
                )
                print(rows[-1], flush=True)
        if size == max(sizes):
            counts_ms = time_counts(engine)
            plan_text = plans(
                engine,
                [
                    ("first page", triage.QueueFilters()),
                    ("department=13", triage.QueueFilters(department="13")),
                    ("overdue=true", triage.QueueFilters(overdue=True)),
                ],
            )
            grow_backlog(engine, 9 * open_count)
            counts_big_ms = time_counts(engine)
            notes.append(
                f"- {name}, {size:,} reports: queue counts in process, median "
                f"{counts_ms:.2f} ms with {open_count:,} open reports, "
                f"{counts_big_ms:.2f} ms with {10 * open_count:,} open reports"
            )
            notes.append(f"\n#### Query plans, {name}, {size:,} reports\n")
            notes.extend(plan_text)
        engine.dispose()
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    all_rows, all_notes = [], []
    with tempfile.TemporaryDirectory(prefix="vigie-bench-triage-") as tmp:
        for engine_name in args.engines.split(","):
            rows, notes = run_engine(engine_name, sizes, Path(tmp))
            all_rows += rows
            all_notes += notes
    body = "\n".join(
        [
            "## Triage queue (`bench/triage.py`)",
            "",
            f"Machine: {common.machine()}.",
            "",
            "GET /v1/triage/queue (50 rows, with the counts per status and priority), "
            f"gunicorn with 2 sync workers, wrk with 2 connections for {WRK_SECONDS} s per line "
            "(a latency measurement: one request per worker at a time), after a 2 s warm-up. "
            f"Reports spread over five years; the open queue holds {OPEN_BACKLOG:,} reports "
            "at both sizes (5,000 of 10,000, and of 1,000,000), the rest are closed. "
            "Target: p50 under 20 ms, and less than 2x growth from 10,000 to 1,000,000.",
            "",
            "The last two columns: the median time of the same service calls (the page, its "
            "related counts and the queue counts) run in process 200 times without HTTP, which "
            "is the part the indexes decide; and the 1-minute load average when the line was "
            "measured: HTTP latencies depend on what else the two cores were doing, and a "
            "load above the core count means requests waited for a CPU.",
            "",
            TABLE_HEADER,
            *all_rows,
            "",
            *all_notes,
        ]
    )
    common.write_section("triage", body)
    print(body)


if __name__ == "__main__":
    main()

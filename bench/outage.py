"""Database outage: PostgreSQL stopped and restarted, locked, then frozen, under load.

Runs the scenario of tests/test_database_outage.py (tests/outage_support.py: a throw-away
cluster, gunicorn with 2 workers, a `vigie worker`, 4 posting threads) and writes what it
measured to docs/PERFORMANCE.md. The test checks the same scenario on every CI run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from common import ROOT, machine, write_section

sys.path.insert(0, str(ROOT / "tests"))

from outage_support import (  # the tests' scenario, found on their path
    BOUND_SECONDS,
    CONNECT_TIMEOUT,
    STATEMENT_TIMEOUT_MS,
    Outage,
    run_outage,
)

PER_PHASE = 40  # the test awaits 10 answers per phase; the benchmark a longer outage


def _errors(log: str) -> int:
    count = 0
    for line in log.splitlines():
        try:
            count += json.loads(line).get("level") == "ERROR"
        except ValueError:
            continue
    return count


def _row(label: str, answers: list, outage: Outage) -> str:
    ok = sum(a.status == 201 for a in answers)
    unavailable = sum(a.status == 503 for a in answers)
    other = len(answers) - ok - unavailable
    slowest = max((a.seconds for a in answers), default=0.0)
    return f"| {label} | {len(answers)} | {ok} | {unavailable} | {other} | {slowest * 1000:,.0f} |"


def report(outage: Outage) -> str:
    lost = len(outage.acknowledged - outage.stored)
    outage_seconds = outage.restarted_at - outage.stopped_at
    recovery = outage.recovered_at - outage.restarted_at
    lock_seconds = outage.unlocked_at - outage.locked_at
    freeze_seconds = outage.thawed_at - outage.frozen_at
    spent = max(outage.server_seconds(503), default=0.0)
    return f"""## Database outage: PostgreSQL stopped, restarted, locked, then frozen, under load

Machine: {machine()}.
gunicorn, 2 sync workers, and a `vigie worker`, on a throw-away PostgreSQL cluster started by
the scenario; 4 threads post reports back to back; each phase lasts until {PER_PHASE} answers of
its kind (a slow phase: 3). `db_connect_timeout_seconds={CONNECT_TIMEOUT}`,
`db_statement_timeout_ms={STATEMENT_TIMEOUT_MS}`: a request may wait {BOUND_SECONDS:.0f} s at most
for the database (a statement, or one second more against a frozen server, then a new connection). Written by `bench/outage.py` (the scenario of `tests/test_database_outage.py`,
which checks it on every CI run).

| phase | requests | 201 | 503 | other | slowest ms |
| --- | ---: | ---: | ---: | ---: | ---: |
{_row("whole run", outage.answers, outage)}
{_row(f"cluster stopped (`pg_ctl stop -m immediate`, {outage_seconds:.1f} s)", outage.during_outage, outage)}
{_row(f"reports table locked by another connection ({lock_seconds:.1f} s)", outage.during_lock, outage)}
{_row(f"server frozen: SIGSTOP on every process of the cluster ({freeze_seconds:.1f} s)", outage.during_freeze, outage)}

"slowest" is what a client waited, including the time its request queued behind another in a
busy gunicorn worker; the longest an API process itself spent on a request answered 503 was
{spent * 1000:,.0f} ms.

- Acknowledged (201) reports: {len(outage.acknowledged)}; stored after the restart: {len(outage.acknowledged & outage.stored)}; lost: {lost}.
- Time to recover: the first report was acknowledged {recovery * 1000:,.0f} ms after the cluster accepted connections again, without restarting any Vigie process (the pool pings each connection it hands out and replaces broken ones).
- Load average when the run ended: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work shares them).
- Error lines logged during the whole run: {_errors(outage.server_log)} by the API processes, {_errors(outage.worker_log)} by the worker (one short line per failure class per 10 s per process, no stack); the worker process stayed up.
"""  # noqa: E501 - table rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vigie-outage-") as directory:
        outage = run_outage(Path(directory), per_phase=PER_PHASE)
    text = report(outage)
    print(text)
    write_section("outage", text)


if __name__ == "__main__":
    main()

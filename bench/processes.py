"""Two API processes and two workers on PostgreSQL: runs tests/deploy/test_several_processes.py
(5,000 reports, concurrent retries under one Idempotency-Key, every delivery checked) and
writes what it measured to docs/PERFORMANCE.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import POSTGRES_URL, ROOT, machine, write_section


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures_path = Path(tmp) / "figures.json"
        env = {**os.environ, "VIGIE_BENCH_FIGURES": str(figures_path)}
        env["VIGIE_TEST_DATABASE_URL"] = env.get("VIGIE_TEST_POSTGRES_URL", POSTGRES_URL)
        test = "tests/deploy/test_several_processes.py"
        subprocess.run([sys.executable, "-m", "pytest", "-q", test], cwd=ROOT, env=env, check=True)
        figures = json.loads(figures_path.read_text())
    body = f"""## Several processes (`bench/processes.py`)

{figures["reports"]:,} reports posted by {figures["threads"]} client threads to two `vigie serve`
processes (one gunicorn worker each), every tenth sent twice at the same moment under the same
`Idempotency-Key` to both processes; two `vigie worker` processes deliver `report.received` to a
receiver that verifies each signature; one PostgreSQL database. The test behind it
(`tests/deploy/test_several_processes.py`, in every CI run) asserts: no 5xx, exactly
{figures["reports"]:,} reports stored, one report per key, each event delivered once, signed.
These are correctness figures, not capacity: the Python client threads, the receiver (which
verifies every signature) and the four Vigie processes share the same 2 cores; capacity is in
the ingestion and webhook sections.

| measure | figure |
| --- | ---: |
| requests sent (with retries of 409 "still processing") | {figures["requests"]:,} |
| answers by status | {", ".join(f"{k}: {v:,}" for k, v in figures["statuses"].items())} |
| all reports acknowledged after | {figures["posting_s"]} s |
| all events delivered after | {figures["delivered_after_s"]} s |

Machine: {machine()}.
"""
    write_section("processes", body)
    print(body)


if __name__ == "__main__":
    main()

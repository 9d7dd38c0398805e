"""Backups restore: the commands docs/DEPLOYMENT.md gives, run on the suite's engine, give a
database that `vigie audit verify` accepts and that holds every report."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from conftest import SECRET_KEY
from live import BIN
from triage_support import P1, claim, move, report
from vigie.reports.models import Report


def _vigie(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env |= {
        "VIGIE_ENV": "development",
        "VIGIE_DATABASE_URL": database_url,
        "VIGIE_SECRET_KEY": SECRET_KEY,
    }
    return subprocess.run(
        [str(BIN / "vigie"), *args], env=env, capture_output=True, text=True, timeout=60
    )


def _reports(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Report.__table__)) or 0)
    finally:
        engine.dispose()


def _backup_and_restore_postgres(database_url: str, tmp_path: Path) -> str:
    """pg_dump -Fc, then pg_restore into a new database (as DEPLOYMENT.md says)."""
    url = make_url(database_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp_path / "vigie.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", plain],
        check=True,
        timeout=120,
    )
    name = f"vigie_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    target = url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True, timeout=120
    )
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def _backup_sqlite(database_url: str, tmp_path: Path) -> str:
    """SQLite's online backup (what `sqlite3 vigie.db ".backup backup.db"` runs), safe while
    the API and the worker write: it copies a consistent snapshot, WAL included."""
    source = sqlite3.connect(make_url(database_url).database)
    copy = sqlite3.connect(tmp_path / "backup.db")
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{tmp_path / 'backup.db'}"


@contextlib.contextmanager
def _restored(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A backup of the suite's database restored as a new one; its URL."""
    if make_url(database_url).get_backend_name() != "postgresql":
        yield _backup_sqlite(database_url, tmp_path)
        return
    restored = _backup_and_restore_postgres(database_url, tmp_path)
    try:
        yield restored
    finally:
        _drop_postgres(restored)


def test_a_restored_backup_passes_audit_verify_and_keeps_every_report(
    database_url, client, partner, make_staff, post_report, tmp_path
):
    op = make_staff()
    ids = [report(post_report, partner, f"backup-{i}", **P1) for i in range(5)]
    for rid in ids[:3]:
        claim(client, op, rid)
        move(client, op, rid, "in_review")
        client.get(f"/v1/triage/reports/{rid}", headers=op.headers)

    with _restored(database_url, tmp_path) as restored:
        verdict = _vigie(restored, "audit", "verify", "--json")
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        result = json.loads(verdict.stdout)
        assert result["ok"] is True
        assert result["entries"] >= 3 * 3  # claim, move and read of three reports, at least
        assert _reports(restored) == len(ids)


def test_audit_verify_on_a_restored_backup_finds_tampering(
    database_url, client, partner, make_staff, post_report, tmp_path
):
    """The check above can fail: the same restore with one audit entry altered is refused."""
    op = make_staff()
    rid = report(post_report, partner, "tampered", **P1)
    claim(client, op, rid)
    with _restored(database_url, tmp_path) as restored:
        engine = create_engine(restored)
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_entries SET action = 'report.read' WHERE seq = 1"))
        engine.dispose()
        verdict = _vigie(restored, "audit", "verify", "--json")
        assert verdict.returncode == 1
        assert json.loads(verdict.stdout)["ok"] is False

"""docs/PRIVACY.md stays true: every column of every table is classified there, and the
columns it says erasure empties are exactly those the erasure code empties."""

from __future__ import annotations

import re
from pathlib import Path

import vigie.models  # noqa: F401  (every table registered on the metadata)
from vigie.db import Base
from vigie.triage.erasure import ERASED_REPORT_COLUMNS

DOC = Path(__file__).resolve().parents[1] / "docs" / "PRIVACY.md"
ROW = re.compile(r"^\| `(\w+)\.(\w+)` \| (\w+) \| ([^|]+) \| ([^|]+) \|$", re.MULTILINE)
CLASSES = {"personal", "staff", "secret", "organisation", "technical"}
ON_ERASURE = "at retention or on request"


def _classified() -> dict[tuple[str, str], tuple[str, str, str]]:
    rows = ROW.findall(DOC.read_text(encoding="utf-8"))
    table = {
        (t, c): (cls, protection.strip(), erased.strip()) for t, c, cls, protection, erased in rows
    }
    assert len(table) == len(rows), "a column is classified twice"
    return table


def test_every_column_is_classified_and_every_classified_column_exists():
    columns = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    classified = _classified()
    assert sorted(columns - set(classified)) == [], "columns missing from docs/PRIVACY.md"
    assert sorted(set(classified) - columns) == [], (
        "docs/PRIVACY.md lists columns that do not exist"
    )
    assert {cls for cls, _, _ in classified.values()} <= CLASSES


def test_the_erased_columns_are_those_the_erasure_code_empties():
    documented = {
        f"{t}.{c}" for (t, c), (_, _, erased) in _classified().items() if erased == ON_ERASURE
    }
    coded = {f"reports.{c}" for c in ERASED_REPORT_COLUMNS} | {
        "report_notes.body_enc",
        "report_transitions.comment_enc",
        "referrals.note_enc",
        "referrals.languages",
    }
    assert documented == coded


def test_encrypted_and_hashed_columns_are_said_so():
    for (table, column), (cls, protection, _) in _classified().items():
        if column.endswith("_enc"):
            assert protection.startswith("encrypted"), f"{table}.{column}"
        if column.endswith("_hash") and table != "audit_entries":  # the audit chain's links
            assert cls == "secret", f"{table}.{column}"
            assert "hash" in protection, f"{table}.{column}"

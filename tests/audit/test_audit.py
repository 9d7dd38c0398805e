"""The audit log: who, when, what, from which request; tamper-evident."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from triage_support import claim, move, report
from vigie.cli import main


def _verify(app):
    result = app.test_cli_runner().invoke(main, ["audit", "verify", "--json"])
    return result.exit_code, json.loads(result.output)


@pytest.fixture
def worked(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "a")
    claim(client, op, rid)
    move(client, op, rid, "in_review", comment="Appel du 17 passé par l'hôte")
    client.post(
        f"/v1/triage/reports/{rid}/notes",
        json={"body": "Note confidentielle sur la victime"},
        headers=op.headers,
    )
    client.get(f"/v1/triage/reports/{rid}", headers=op.headers)
    return op, rid


def test_every_action_is_recorded_without_free_text(app, client, make_staff, worked):
    op, rid = worked
    sam = make_staff("supervisor")
    response = client.get(f"/v1/audit?report_id={rid}", headers=sam.headers)
    log = response.get_json()
    assert [e["action"] for e in log] == [
        "report.claimed",
        "report.transition",
        "report.note_added",
        "report.read",
    ]
    assert all(e["actor"] == op["id"] and e["actor_role"] == "operator" for e in log)
    assert all(e["request_id"] and e["at"] for e in log)
    assert log[1]["details"] == {"from": "received", "to": "in_review"}
    text = response.get_data(as_text=True)
    assert "Appel du 17" not in text
    assert "Note confidentielle" not in text
    seqs = [e["seq"] for e in log]
    assert seqs == list(range(seqs[0], seqs[0] + 4))
    # Before them: the partner's and the operator's accounts; after: the supervisor's.
    assert _verify(app) == (0, {**_verify(app)[1], "ok": True, "entries": seqs[-1] + 1})


def test_only_supervisors_read_the_log(client, worked, make_staff):
    op, _ = worked
    assert client.get("/v1/audit", headers=op.headers).status_code == 403
    assert client.get("/v1/audit", headers=make_staff("admin").headers).status_code == 403


def test_pages_of_the_log(client, worked, make_staff):
    sam = make_staff("supervisor")
    page = client.get("/v1/audit?limit=3", headers=sam.headers)
    assert len(page.get_json()) == 3
    seqs = [e["seq"] for e in page.get_json()]
    while "Link" in page.headers:
        link = page.headers["Link"]
        page = client.get(link[link.index("<") + 1 : link.index(">")], headers=sam.headers)
        seqs += [e["seq"] for e in page.get_json()]
    # Accounts (partner, operator, supervisor) and the four actions on the report, in order.
    assert seqs == list(range(1, 8))


def test_a_deleted_entry_breaks_the_chain(app, db, worked):
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    code, body = _verify(app)
    assert code == 1
    assert body["broken_at"] == 3
    assert body["entries"] == 1


def test_a_rewritten_entry_with_a_recomputed_hash_still_breaks_the_chain(app, db, worked):
    from vigie.audit.models import AuditEntry
    from vigie.audit.service import entry_hash

    with db.unit() as session:
        entry = session.query(AuditEntry).filter_by(seq=2).one()
        entry.details = {"from": "received", "to": "closed"}
        entry.hash = entry_hash(entry.prev_hash, entry)
    code, body = _verify(app)
    assert code == 1
    assert body["broken_at"] == 3


def test_verify_speaks_plainly(app, worked):
    result = app.test_cli_runner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0
    # The partner's and operator's accounts, then four actions on the report.
    assert result.output.startswith("ok: 6 entries, head ")


@pytest.mark.parametrize("name", ["report_id", "actor", "action"])
def test_nul_in_a_filter_is_422_naming_it(client, make_staff, name):
    # Found by the API fuzz on PostgreSQL: a NUL in a WHERE clause was a 500.
    response = client.get(f"/v1/audit?{name}=x%00", headers=make_staff("supervisor").headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "field": name,
            "in": "query",
            "detail": "Text must not contain the NUL character (U+0000).",
        }
    ]

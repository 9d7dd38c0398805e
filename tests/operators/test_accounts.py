"""Staff account administration: console passwords, disabling, token rotation (all audited)."""

from __future__ import annotations

import json

from sqlalchemy import select

from vigie.audit.models import AuditEntry
from vigie.cli import main
from vigie.operators.models import Operator

PASSWORD = "correct horse battery"


def _invoke(app, *args, stdin=None):
    return app.test_cli_runner().invoke(main, list(args), input=stdin)


def _ok(app, *args, stdin=None):
    result = _invoke(app, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def _account(db, public_id):
    with db.unit() as session:
        return session.scalar(select(Operator).where(Operator.public_id == public_id))


def _actions(db, target):
    with db.unit() as session:
        return [
            (e.action, e.actor.startswith("cli:"))
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.seq)
            )
        ]


def test_set_password_reads_stdin_and_stores_only_an_argon2_hash(app, db, make_staff):
    staff = make_staff("operator", "Camille")
    out = _ok(app, "operator", "set-password", "Camille", stdin=PASSWORD + "\n")
    assert staff["id"] in out
    assert PASSWORD not in out
    stored = _account(db, staff["id"]).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert _actions(db, staff["id"])[-1] == ("operator.password_set", True)


def test_set_password_by_id_and_refusals(app, db, make_staff):
    staff = make_staff("operator", "Camille")
    short = _invoke(app, "operator", "set-password", staff["id"], stdin="eleven char\n")
    assert short.exit_code != 0
    assert "at least 12 characters" in short.output
    assert _account(db, staff["id"]).password_hash is None

    unknown = _invoke(app, "operator", "set-password", "Nobody", stdin=PASSWORD + "\n")
    assert unknown.exit_code != 0
    assert "No staff account" in unknown.output

    _ok(app, "operator", "set-password", staff["id"], stdin=PASSWORD + "\n")
    make_staff("operator", "Camille")  # a namesake: the name no longer says which account
    ambiguous = _invoke(app, "operator", "set-password", "Camille", stdin=PASSWORD + "\n")
    assert ambiguous.exit_code != 0
    assert "Several staff accounts" in ambiguous.output


def test_two_accounts_that_log_in_may_not_share_a_name(app, make_staff):
    first, second = make_staff("operator", "Lou"), make_staff("supervisor", "Lou")
    _ok(app, "operator", "set-password", first["id"], stdin=PASSWORD + "\n")
    refused = _invoke(app, "operator", "set-password", second["id"], stdin=PASSWORD + "\n")
    assert refused.exit_code != 0
    assert "names must be unique" in refused.output


def test_set_password_prompts_without_echo_on_a_terminal(app, make_staff, monkeypatch):
    import click

    staff = make_staff("operator", "Camille")
    asked = {}

    def prompt(text, **options):
        asked.update(options, text=text)
        return PASSWORD

    monkeypatch.setattr("vigie.cli._on_terminal", lambda: True)
    monkeypatch.setattr(click, "prompt", prompt)
    _ok(app, "operator", "set-password", staff["id"])
    assert asked["hide_input"] is True
    assert asked["confirmation_prompt"] is True


def test_disable_stops_the_token_at_once_and_is_audited(app, db, client, make_staff):
    staff = make_staff("operator", "Camille")
    assert client.get("/v1/triage/queue", headers=staff.headers).status_code == 200
    out = json.loads(_ok(app, "operator", "disable", "Camille", "--json"))
    assert out["id"] == staff["id"]
    assert out["disabled_at"]
    assert client.get("/v1/triage/queue", headers=staff.headers).status_code == 401
    again = json.loads(_ok(app, "operator", "disable", staff["id"], "--json"))
    assert again["disabled_at"] == out["disabled_at"]
    assert _actions(db, staff["id"]).count(("operator.disabled", True)) == 1


def test_rotate_token_replaces_the_old_one_and_is_audited(app, db, client, make_staff):
    staff = make_staff("supervisor", "Sam")
    out = json.loads(_ok(app, "operator", "rotate-token", "Sam", "--json"))
    assert set(out) == {"id", "name", "token"}
    assert out["token"].startswith("vo_")
    assert out["token"] != staff["secret"]
    assert client.get("/v1/triage/queue", headers=staff.headers).status_code == 401
    fresh = {"Authorization": f"Bearer {out['token']}"}
    assert client.get("/v1/triage/queue", headers=fresh).status_code == 200
    assert _actions(db, staff["id"])[-1] == ("operator.token_rotated", True)
    with db.unit() as session:
        entries = session.scalars(select(AuditEntry)).all()
        assert all(out["token"] not in json.dumps(e.details or {}) for e in entries)

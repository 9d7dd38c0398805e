"""The admin CLI: partner and operator accounts, with --json output for scripts."""

from __future__ import annotations

import json

from vigie.cli import main


def _run(app, *args):
    result = app.test_cli_runner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_partner_create_prints_a_usable_key_once(app, client):
    out = json.loads(
        _run(
            app,
            "partner",
            "create",
            "--name",
            "Airbnb",
            "--scopes",
            "reports:write,reports:read",
            "--json",
        )
    )
    assert set(out) == {"id", "name", "api_key", "scopes", "slug", "embed_origins"}
    assert out["scopes"] == ["reports:read", "reports:write"]
    assert out["api_key"].startswith("vk_")
    assert len(out["api_key"]) > 40
    response = client.get("/v1/reports", headers={"Authorization": f"Bearer {out['api_key']}"})
    assert response.status_code == 200

    listing = json.loads(_run(app, "partner", "list", "--json"))
    assert [p["id"] for p in listing] == [out["id"]]
    assert out["api_key"] not in json.dumps(listing)


def test_partner_create_refuses_unknown_scopes(app):
    result = app.test_cli_runner().invoke(
        main, ["partner", "create", "--name", "X", "--scopes", "reports:delete"]
    )
    assert result.exit_code != 0
    assert "reports:delete" in result.output


def test_operator_create_prints_a_token(app):
    out = json.loads(
        _run(app, "operator", "create", "--name", "Camille", "--role", "supervisor", "--json")
    )
    assert set(out) == {"id", "name", "role", "token"}
    assert out["role"] == "supervisor"
    assert out["token"].startswith("vo_")


def test_api_keys_are_stored_only_as_hashes(app, db):
    from sqlalchemy import text

    out = json.loads(_run(app, "partner", "create", "--name", "Gîtes", "--json"))
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    assert rows
    assert out["api_key"] not in repr(rows)


def test_admin_commands_are_audited_without_secrets(app, client, make_staff):
    created = json.loads(_run(app, "partner", "create", "--name", "Air", "--json"))
    rotated = json.loads(_run(app, "partner", "rotate-key", created["id"], "--json"))
    _run(app, "partner", "revoke", created["id"])
    staff = json.loads(
        _run(app, "operator", "create", "--name", "Lou", "--role", "operator", "--json")
    )
    supervisor = make_staff("supervisor")

    response = client.get("/v1/audit", headers=supervisor.headers)
    log = response.get_json()
    by_target = [(e["action"], e["target"]) for e in log if e["actor"].startswith("cli:")]
    assert by_target == [
        ("partner.created", created["id"]),
        ("partner.key_rotated", created["id"]),
        ("partner.revoked", created["id"]),
        ("operator.created", staff["id"]),
    ]
    text = response.get_data(as_text=True)
    for secret in (created["api_key"], rotated["api_key"], staff["token"]):
        assert secret not in text

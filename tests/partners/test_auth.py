"""Credentials: 401 without a valid one, 403 without the scope or role, 404 across partners."""

from __future__ import annotations

import pytest

from payloads import stay_report
from vigie.cli import main


def test_missing_credentials_is_401(client):
    response = client.get("/v1/reports")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer vk_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer ", "vk_raw-without-scheme"]
)
def test_wrong_credentials_are_401(client, header):
    response = client.get("/v1/reports", headers={"Authorization": header})
    assert response.status_code == 401


def test_missing_scope_is_403(make_partner, post_report, client):
    reader = make_partner(scopes=("reports:read",))
    assert post_report(reader, stay_report()).status_code == 403
    assert client.get("/v1/reports", headers=reader.headers).status_code == 200


def test_staff_token_on_a_partner_endpoint_is_403(make_staff, client):
    supervisor = make_staff("supervisor")
    assert client.get("/v1/reports", headers=supervisor.headers).status_code == 403


def test_another_partners_report_is_indistinguishable_from_a_missing_one(
    make_partner, post_report, client
):
    owner, other = make_partner("Owner"), make_partner("Other")
    report_id = post_report(owner, stay_report()).get_json()["id"]
    foreign = client.get(f"/v1/reports/{report_id}", headers=other.headers)
    missing = client.get("/v1/reports/rep_doesnotexist0000", headers=other.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json()["title"] == missing.get_json()["title"]
    assert client.get("/v1/reports", headers=other.headers).get_json() == []


def test_revoked_partner_fails_at_once(app, partner, client):
    assert client.get("/v1/reports", headers=partner.headers).status_code == 200
    result = app.test_cli_runner().invoke(main, ["partner", "revoke", partner["id"], "--json"])
    assert result.exit_code == 0, result.output
    assert client.get("/v1/reports", headers=partner.headers).status_code == 401


def test_key_rotation_replaces_the_key(app, partner, client):
    import json

    result = app.test_cli_runner().invoke(main, ["partner", "rotate-key", partner["id"], "--json"])
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.output)
    assert rotated["api_key"] != partner["secret"]
    assert rotated["scopes"] == sorted(
        ["reports:write", "reports:read", "content:read", "webhooks:manage"]
    )
    assert client.get("/v1/reports", headers=partner.headers).status_code == 401
    fresh = {"Authorization": f"Bearer {rotated['api_key']}"}
    assert client.get("/v1/reports", headers=fresh).status_code == 200

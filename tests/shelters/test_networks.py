"""Shelter networks: `vigie shelter-network …` (admin, audited) and shelters joining one
through the directory API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from network_support import cli, create_network, network_shelter
from triage_support import shelter
from vigie.audit.models import AuditEntry
from vigie.cli import main
from vigie.shelters.models import ShelterNetwork

INTAKE = "http://127.0.0.1:9/intake"


def test_create_prints_the_key_and_secret_once_and_list_never_shows_them(app, db):
    created = create_network(app, INTAKE)
    assert set(created) == {"id", "name", "api_key", "intake", "signing_secret"}
    assert created["id"].startswith("snt_")
    assert created["api_key"].startswith("vn_")
    assert len(created["api_key"]) > 40
    assert created["signing_secret"].startswith("whsec_")
    assert created["intake"]["url"] == INTAKE
    listing = cli(app, "shelter-network", "list", "--json")
    assert listing == [
        {
            "id": created["id"],
            "name": "SIAO Bouches-du-Rhône",
            "revoked": False,
            "key_prefix": created["api_key"][:10],
            "shelters": 0,
            "intake": {
                "endpoint_id": created["intake"]["endpoint_id"],
                "url": INTAKE,
                "enabled": True,
                "disabled_reason": None,
            },
            "deliveries": {},
        }
    ]
    with db.unit(write=False) as session:
        stored = session.scalars(select(ShelterNetwork)).one()
        entries = session.scalars(select(AuditEntry)).all()
    assert stored.key_hash != created["api_key"]
    assert created["api_key"] not in json.dumps([e.details for e in entries])
    assert [(e.action, e.target, e.actor.startswith("cli:")) for e in entries] == [
        ("shelter_network.created", created["id"], True)
    ]
    # MIPROF's own endpoints do not include a network's intake.
    assert cli(app, "webhooks", "list", "--json")["endpoints"] == []
    text = app.test_cli_runner().invoke(main, ["shelter-network", "list"]).output
    assert created["id"] in text
    assert created["api_key"] not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", " ", "--intake-url", INTAKE], "name"),
        (["--name", "X", "--intake-url", "ftp://intake.example/x"], "URL must use"),
        (["--name", "X", "--intake-url", "http://user:pw@127.0.0.1:9/"], "user name"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(app, db, args, message):
    result = app.test_cli_runner().invoke(main, ["shelter-network", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    with db.unit(write=False) as session:
        assert session.scalars(select(ShelterNetwork)).all() == []


def test_revoke_and_set_intake_are_audited(app, db):
    created = create_network(app, INTAKE)
    cli(app, "shelter-network", "set-intake", created["id"], "--url", INTAKE + "/v2", "--json")
    cli(app, "shelter-network", "revoke", created["id"], "--json")
    (state,) = cli(app, "shelter-network", "list", "--json")
    assert state["revoked"] is True
    assert state["intake"] is None
    again = app.test_cli_runner().invoke(main, ["shelter-network", "set-intake", created["id"]])
    assert again.exit_code != 0
    assert "revoked" in again.output
    unknown = app.test_cli_runner().invoke(main, ["shelter-network", "revoke", "snt_nope"])
    assert unknown.exit_code != 0
    with db.unit(write=False) as session:
        actions = [(e.action, e.details) for e in session.scalars(select(AuditEntry))]
    assert actions == [
        ("shelter_network.created", {"intake_endpoint": created["intake"]["endpoint_id"]}),
        ("shelter_network.intake_changed", {"fields": ["enabled", "url"]}),
        ("shelter_network.revoked", {}),
    ]


def test_a_shelter_joins_a_network_through_the_directory(app, client, db, make_staff):
    admin, op = make_staff("admin"), make_staff()
    network = create_network(app, INTAKE)
    member = network_shelter(client, admin, network)
    assert (member["network"], member["integration"]) == (network["id"], "shelter_network")
    read = client.get(f"/v1/shelters/{member['id']}", headers=op.headers).get_json()
    assert read["network"] == network["id"]
    listed = client.get("/v1/shelters", headers=op.headers).get_json()
    assert [s["network"] for s in listed] == [network["id"]]
    (state,) = cli(app, "shelter-network", "list", "--json")
    assert state["shelters"] == 1
    url = f"/v1/shelters/{member['id']}"
    left = client.patch(url, json={"network": None}, headers=admin.headers).get_json()
    assert (left["network"], left["integration"]) == (None, None)
    plain = shelter(client, admin, name="Accueil de jour", integration="siao13")
    assert plain["network"] is None
    joined = client.patch(
        f"/v1/shelters/{plain['id']}", json={"network": network["id"]}, headers=admin.headers
    ).get_json()
    assert (joined["network"], joined["integration"]) == (network["id"], "shelter_network")
    with db.unit(write=False) as session:
        updates = [
            e.details["fields"]
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "shelter.updated")
            )
        ]
    assert updates == [["integration", "network"], ["integration", "network"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"integration": "shelter_network"}, "network"),
        ({"network": "snt_nope"}, "network"),
        ({"network": "{id}", "integration": "siao13"}, "integration"),
        ({"network": "x" * 40}, "network"),
    ],
)
def test_inconsistent_network_fields_are_422(app, client, db, make_staff, body, field):
    admin = make_staff("admin")
    network = create_network(app, INTAKE)
    body = {k: v.format(id=network["id"]) if isinstance(v, str) else v for k, v in body.items()}
    payload = {
        "name": "CHRS",
        "type": "emergency_shelter",
        "departments": ["13"],
        "capacity_total": 2,
        "capacity_available": 1,
        **body,
    }
    response = client.post("/v1/shelters", json=payload, headers=admin.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert client.get("/v1/shelters", headers=admin.headers).get_json() == []


def test_a_revoked_network_takes_no_new_shelter(app, client, make_staff):
    admin = make_staff("admin")
    network = create_network(app, INTAKE)
    member = network_shelter(client, admin, network)
    cli(app, "shelter-network", "revoke", network["id"], "--json")
    response = client.post(
        "/v1/shelters",
        json={
            "name": "CHRS 2",
            "type": "emergency_shelter",
            "departments": ["13"],
            "capacity_total": 2,
            "capacity_available": 1,
            "network": network["id"],
        },
        headers=admin.headers,
    )
    assert response.status_code == 422
    # A shelter already in it keeps its history; other edits still work.
    edited = client.patch(
        f"/v1/shelters/{member['id']}", json={"capacity_available": 0}, headers=admin.headers
    )
    assert edited.status_code == 200
    assert edited.get_json()["network"] == network["id"]

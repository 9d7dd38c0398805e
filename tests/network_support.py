"""Shelter networks for tests: created as an administrator would (the CLI), a shelter of the
network in the directory, and a referral to it."""

from __future__ import annotations

import json
from typing import Any

from triage_support import claim, shelter
from vigie.cli import main

OUTCOMES_URL = "/v1/integrations/shelter_network/outcomes"


class Network(dict):
    """What `vigie shelter-network create --json` printed; `headers` carry its key."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self['api_key']}"}


def cli(app, *args: str) -> Any:
    result = app.test_cli_runner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def create_network(app, url: str, name: str = "SIAO Bouches-du-Rhône") -> Network:
    return Network(
        cli(app, "shelter-network", "create", "--name", name, "--intake-url", url, "--json")
    )


def network_shelter(client, admin, network: Network, **overrides: Any) -> dict[str, Any]:
    body = {"name": "CHRS Les Tilleuls", "network": network["id"], **overrides}
    return shelter(client, admin, **body)


def refer(client, operator, report_id: str, shelter_id: str, **extra: Any) -> dict[str, Any]:
    """Claim the report and refer it to the shelter (an emergency shelter)."""
    assert claim(client, operator, report_id).status_code == 200
    response = client.post(
        f"/v1/triage/reports/{report_id}/referrals",
        json={"target_type": "emergency_shelter", "shelter_id": shelter_id, **extra},
        headers=operator.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send_outcome(client, network: Network, referral_id: str, outcome: str, **extra: Any) -> Any:
    return client.post(
        OUTCOMES_URL,
        json={"referral_id": referral_id, "outcome": outcome, **extra},
        headers=network.headers,
    )

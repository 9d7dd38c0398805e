"""Small helpers for the triage, shelter, audit and stats tests."""

from __future__ import annotations

from typing import Any

from payloads import flight_report, stay_report

P1 = {"persons": {"count": 2, "minors": 1, "in_immediate_danger": True}}
P2 = {
    "persons": {"count": 2, "minors": 1, "in_immediate_danger": False},
    "suspected_exploitation": ["labour"],
}
P3 = {"indicators": ["restricted_movement"]}


def report(post_report, partner, ref: str, *, as_flight: bool = False, **overrides: Any) -> str:
    body = (flight_report if as_flight else stay_report)(partner_reference=ref, **overrides)
    response = post_report(partner, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def claim(client, actor, report_id: str, **body: Any):
    return client.post(f"/v1/triage/reports/{report_id}/claim", json=body, headers=actor.headers)


def move(client, actor, report_id: str, to: str, **body: Any):
    return client.post(
        f"/v1/triage/reports/{report_id}/transitions",
        json={"to": to, **body},
        headers=actor.headers,
    )


SHELTER_BODY: dict[str, Any] = {
    "name": "SIAO 13",
    "type": "emergency_shelter",
    "departments": ["13"],
    "accepts": ["women", "families"],
    "languages": ["fr"],
    "capacity_total": 10,
    "capacity_available": 3,
    "contact": {"name": "Permanence", "phone": "115"},
}


def shelter(client, admin, **overrides: Any) -> dict[str, Any]:
    body = {**SHELTER_BODY, **overrides}
    response = client.post("/v1/shelters", json=body, headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()

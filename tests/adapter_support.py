"""Samples of the three adapters, the canonical reports of the same facts, and helpers to
post native payloads and to damage them one field at a time."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ("airbnb", "gites_de_france", "airline")
PROBLEM_JSON = "application/problem+json"

# The native field each adapter takes the partner's reference from.
REFERENCE_FIELD = {"airbnb": "case_id", "gites_de_france": "gite_numero", "airline": "report_ref"}

# What each sample is worth, by the vocabulary's priority rules.
EXPECTED_PRIORITY = {
    "airbnb": "P3",  # one strong indicator (controlled by a third party), no minors
    "gites_de_france": "P2",  # minors, labour exploitation, no strong indicator
    "airline": "P1",  # a minor and strong indicators (documents held, companion answers)
}


def sample(name: str) -> dict[str, Any]:
    """The adapter's own copy of its sample (integrations/<name>/sample.json)."""
    return json.loads((ROOT / "integrations" / name / "sample.json").read_text("utf-8"))


def url(name: str) -> str:
    return f"/v1/integrations/{name}/reports"


def post_native(client: Any, actor: Any, name: str, body: Any, **headers: str) -> Any:
    return client.post(url(name), json=body, headers={**actor.headers, **headers})


def post_raw(client: Any, actor: Any, name: str, data: bytes | str) -> Any:
    return client.post(
        url(name), data=data, headers={**actor.headers, "Content-Type": "application/json"}
    )


# -- the same facts, as a partner would post them to POST /v1/reports ---------------


def canonical_twin(name: str) -> dict[str, Any]:
    """The canonical report of the facts in the adapter's sample."""
    return copy.deepcopy(_TWINS[name])


_TWINS: dict[str, dict[str, Any]] = {
    "airbnb": {
        "partner_reference": "CANONICAL-STAY-1",
        "context": "stay",
        "observed_at": "2026-11-20T22:40:00+01:00",
        "location": {"country": "FR", "postcode": "13003", "commune": "Marseille"},
        "stay": {
            "listing_reference": "listing-48213377",
            "booking_reference": "HMX4QK2PZB",
            "check_in": "2026-11-14",
            "check_out": "2026-12-05",
            "guest_count": 2,
        },
        "indicators": [
            "more_occupants_than_booked",
            "frequent_visitors",
            "refuses_cleaning_or_access",
            "controlled_by_third_party",
        ],
        "suspected_exploitation": ["sexual"],
        "persons": {"count": 5, "minors": None, "in_immediate_danger": False},
        "description": "Réservation pour 2 personnes, au moins 5 jeunes femmes présentes. "
        "Un homme apporte les repas et repart avec les clés.",
        "reporter": {
            "role": "host",
            "contact_consent": True,
            "contact": {"name": "M. Durand", "phone": "+33612345678"},
        },
        "language": "fr",
    },
    "gites_de_france": {
        "partner_reference": "CANONICAL-GITE-1",
        "context": "stay",
        "observed_at": "2026-11-22T17:30:00Z",
        "location": {"postcode": "64200"},
        "stay": {
            "listing_reference": "G-64-1123",
            "check_in": "2026-11-21",
            "check_out": "2026-11-28",
            "guest_count": 4,
        },
        "indicators": ["workers_housed_collectively", "transported_to_work_in_groups"],
        "suspected_exploitation": ["labour"],
        "persons": {"count": 11, "minors": 1, "in_immediate_danger": False},
        "description": "Camionnette qui vient les chercher à 5 h et les ramène à 21 h. "
        "Les enfants ne vont pas à l'école.",
        "reporter": {"role": "host", "contact_consent": False},
        "language": "fr",
    },
    "airline": {
        "partner_reference": "CANONICAL-FLIGHT-1",
        "context": "flight",
        "observed_at": "2026-11-18T07:15:00+00:00",
        "flight": {
            "flight_number": "AF1047",
            "flight_date": "2026-11-18",
            "origin": "OTP",
            "destination": "CDG",
        },
        "indicators": [
            "documents_held_by_companion",
            "companion_answers_for_passenger",
            "unsure_of_destination",
        ],
        "suspected_exploitation": ["unknown"],
        "persons": {"count": 1, "minors": 1, "in_immediate_danger": False},
        "description": "Adolescente d'environ 15 ans ; l'adulte qui l'accompagne garde son "
        "passeport et répond à toutes les questions à sa place.",
        "reporter": {"role": "cabin_crew", "contact_consent": False},
        "language": "fr",
    },
}


# -- damaging a payload ---------------------------------------------------------------

DELETE = object()


def changed(body: Any, path: str, value: Any) -> Any:
    """A copy of `body` with the value at JSON pointer `path` replaced (DELETE removes it)."""
    result = copy.deepcopy(body)
    *parents, last = [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]
    target = result
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return result


def error_pointers(response: Any) -> list[str]:
    return [e.get("pointer", "") for e in response.get_json().get("errors", [])]


def assert_problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """A 4xx problem document whose `status` is the HTTP status."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data())
    if status is not None:
        assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM_JSON
    body: dict[str, Any] = response.get_json()
    assert body["status"] == response.status_code
    return body

"""Valid canonical reports for tests, built to be tweaked one field at a time."""

from __future__ import annotations

from typing import Any


def stay_report(**overrides: Any) -> dict[str, Any]:
    """A valid stay report (the shared sample's shape), with top-level overrides."""
    report: dict[str, Any] = {
        "partner_reference": "ABNB-TS-2026-0001842",
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
        "indicators": ["more_occupants_than_booked", "frequent_visitors"],
        "suspected_exploitation": ["sexual"],
        "persons": {"count": 5, "minors": None, "in_immediate_danger": False},
        "description": "Réservation pour 2 personnes, au moins 5 jeunes femmes présentes.",
        "reporter": {"role": "host", "contact_consent": False},
        "language": "fr",
    }
    report.update(overrides)
    return report


def flight_report(**overrides: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "partner_reference": "AF-CC-77120",
        "context": "flight",
        "observed_at": "2026-11-18T07:15:00+00:00",
        "flight": {
            "flight_number": "AF1047",
            "flight_date": "2026-11-18",
            "origin": "OTP",
            "destination": "CDG",
        },
        "indicators": ["documents_held_by_companion", "unsure_of_destination"],
        "suspected_exploitation": ["unknown"],
        "persons": {"count": 1, "minors": 0, "in_immediate_danger": False},
        "description": "",
        "reporter": {"role": "cabin_crew", "contact_consent": False},
        "language": "fr",
    }
    report.update(overrides)
    return report

"""Examples shown in the OpenAPI document (and checked against the schemas by the tests)."""

from __future__ import annotations

STAY_REPORT_EXAMPLE = {
    "partner_reference": "ABNB-TS-2026-0001842",
    "context": "stay",
    "observed_at": "2026-11-20T22:40:00+01:00",
    "location": {"country": "FR", "postcode": "13003", "department": "13", "commune": "Marseille"},
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
    "description": "Réservation pour 2 personnes, au moins 5 jeunes femmes présentes.",
    "reporter": {
        "role": "host",
        "contact_consent": True,
        "contact": {"name": "M. Durand", "phone": "+33600000000"},
    },
    "language": "fr",
}

RECEIPT_EXAMPLE = {
    "id": "rep_mfrggzdfmztwq2lk",
    "partner_reference": "ABNB-TS-2026-0001842",
    "status": "received",
    "priority": "P3",
    "received_at": "2026-11-20T21:41:02.120000+00:00",
    "links": {"self": "/v1/reports/rep_mfrggzdfmztwq2lk"},
    "guidance": None,
}

PROBLEM_DUPLICATE = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "A report with partner_reference 'ABNB-TS-2026-0001842' already exists.",
    "existing_report_id": "rep_mfrggzdfmztwq2lk",
    "instance": "/v1/reports",
}

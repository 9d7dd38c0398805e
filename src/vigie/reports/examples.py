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


def problem_example(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str = "/v1/reports",
    **extra: object,
) -> dict[str, object]:
    """A problem document as the API answers it, for the OpenAPI examples."""
    return {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
        "instance": instance,
        "request_id": "5f0c2a9e41b7d380",
    }


PROBLEM_MALFORMED_JSON = problem_example(
    400,
    "bad-request",
    "Bad Request",
    "Invalid JSON body.",
    errors=[{"field": "(body)", "pointer": "#", "detail": "Invalid JSON body."}],
)
PROBLEM_MALFORMED_CURSOR = problem_example(
    400,
    "bad-request",
    "Bad Request",
    "The cursor is malformed.",
    errors=[{"field": "cursor", "in": "query", "detail": "Malformed cursor."}],
)
PROBLEM_UNAUTHORIZED = problem_example(
    401, "unauthorized", "Unauthorized", "The credential is invalid or revoked."
)
PROBLEM_FORBIDDEN = problem_example(
    403, "forbidden", "Forbidden", "This API key lacks the scope reports:write."
)
PROBLEM_NOT_FOUND = problem_example(
    404, "not-found", "Not Found", "No report rep_mfrggzdfmztwq2lk."
)
PROBLEM_TOO_LARGE = problem_example(
    413, "payload-too-large", "Request Entity Too Large", "The body is larger than 262144 bytes."
)
PROBLEM_MEDIA_TYPE = problem_example(
    415, "unsupported-media-type", "Unsupported Media Type", "Send the body as application/json."
)
PROBLEM_INVALID = problem_example(
    422,
    "validation-error",
    "Unprocessable Entity",
    "The request has invalid fields.",
    errors=[
        {
            "field": "stay.check_out",
            "pointer": "#/stay/check_out",
            "detail": "check_out must not be before check_in.",
        },
        {
            "field": "indicators[0]",
            "pointer": "#/indicators/0",
            "detail": "Must be one of: restricted_movement, ...",
        },
    ],
)
PROBLEM_BATCH_TOO_LONG = {
    **PROBLEM_INVALID,
    "errors": [
        {"field": "reports", "pointer": "#/reports", "detail": "Length must be between 1 and 100."}
    ],
    "instance": "/v1/reports/batch",
}
PROBLEM_LIMIT = {
    **PROBLEM_INVALID,
    "errors": [
        {
            "field": "limit",
            "in": "query",
            "detail": "Must be greater than or equal to 1 and less than or equal to 100.",
        }
    ],
}

BATCH_EXAMPLE = {"reports": [STAY_REPORT_EXAMPLE, {**STAY_REPORT_EXAMPLE, "context": "space"}]}
BATCH_RESULT_EXAMPLE = {
    "results": [
        {"index": 0, "status": 201, "id": "rep_mfrggzdfmztwq2lk", "priority": "P3"},
        {
            "index": 1,
            "status": 422,
            "problem": {
                "type": "/problems/validation-error",
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": "The report has invalid fields.",
                "errors": [
                    {
                        "field": "context",
                        "pointer": "#/context",
                        "detail": "Must be one of: stay, flight, other.",
                    }
                ],
            },
        },
    ]
}

PARTNER_REPORT_EXAMPLE = {
    "id": "rep_mfrggzdfmztwq2lk",
    "partner_reference": "ABNB-TS-2026-0001842",
    "context": "stay",
    "status": "in_review",
    "priority": "P3",
    "observed_at": "2026-11-20T21:40:00+00:00",
    "received_at": "2026-11-20T21:41:02.120000+00:00",
    "updated_at": "2026-11-20T22:05:40.310000+00:00",
    "links": {"self": "/v1/reports/rep_mfrggzdfmztwq2lk"},
}

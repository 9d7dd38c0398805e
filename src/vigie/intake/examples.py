"""Examples shown in the OpenAPI document for adapter reports."""

from __future__ import annotations

from vigie.reports.examples import problem_example

INSTANCE = "/v1/integrations/airbnb/reports"


def _at_adapter(
    status: int, slug: str, title: str, detail: str, **extra: object
) -> dict[str, object]:
    return problem_example(status, slug, title, detail, instance=INSTANCE, **extra)


PROBLEM_UNKNOWN_CODE = _at_adapter(
    422,
    "validation-error",
    "Unprocessable Entity",
    "The report has invalid fields.",
    errors=[
        {
            "field": "concerns[3]",
            "pointer": "#/concerns/3",
            "detail": "Unknown value 'SPOOKY_VIBES'; known values: EXTRA_GUESTS, …",
        },
        {
            "field": "reservation.end_date",
            "pointer": "#/reservation/end_date",
            "detail": "end_date must not be before start_date.",
        },
    ],
)
PROBLEM_NOT_A_JSON_OBJECT = _at_adapter(
    422,
    "validation-error",
    "Unprocessable Entity",
    "The report has invalid fields.",
    errors=[{"field": "(body)", "pointer": "#", "detail": "Must be a JSON object."}],
)
PROBLEM_UNKNOWN_ADAPTER = {
    **_at_adapter(404, "not-found", "Not Found", "No inbound adapter called 'shelter_network'."),
    "instance": "/v1/integrations/shelter_network/reports",
}
PROBLEM_DUPLICATE = _at_adapter(
    409,
    "conflict",
    "Conflict",
    "A report with the reference 'TS-2026-0001842' (from case_id) was already received.",
    existing_report_id="rep_mfrggzdfmztwq2lk",
)
RECEIPT_EXAMPLE = {
    "id": "rep_mfrggzdfmztwq2lk",
    "partner_reference": "TS-2026-0001842",
    "status": "received",
    "priority": "P3",
    "received_at": "2026-11-20T21:41:02.120000+00:00",
    "links": {"self": "/v1/reports/rep_mfrggzdfmztwq2lk"},
    "guidance": None,
}

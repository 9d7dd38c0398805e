"""The shelter network forwarder: what a network's intake receives, and what its answer means.

The payload is built field by field from the core's `ForwardedReferral`, never copied from
it, so that a fact the core adds one day is not sent until this file says so.
"""

from __future__ import annotations

from typing import Any

from vigie import integrations
from vigie.integrations import ForwardContext, ForwardedReferral, ForwardResult

# Where the network answers with the outcome (served by the core, authenticated by its key).
OUTCOMES_PATH = "/v1/integrations/shelter_network/outcomes"
# Answers that say the intake refuses this very payload: resending the same bytes cannot help,
# so the delivery fails at once and MIPROF follows it up. Any other failure is retried on the
# webhook schedule: a wrong key or URL (401, 403, 404) is fixed on one side or the other, a
# busy or broken intake (408, 429, 5xx, no answer) comes back.
REFUSED = frozenset({400, 413, 415, 422})


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema = {"type": "object", "required": sorted(properties), "properties": properties}
    return {**schema, "description": description} if description else schema


_STRING, _NULLABLE_STRING = {"type": "string"}, {"type": ["string", "null"]}
# What `payload` builds, for the OpenAPI document (tests check a real delivery against it).
DATA_SCHEMA = _object(
    {
        "referral_id": {**_STRING, "example": "ref_mfrggzdfmztwq2lk"},
        "shelter": _object({"id": _STRING, "name": _STRING}, "The shelter of your network"),
        "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]},
        "department": {**_NULLABLE_STRING, "description": "Département code, when known"},
        "people": _object(
            {
                "count": {"type": "integer", "minimum": 1},
                "minors": {"type": ["integer", "null"], "description": "Null when unknown"},
                "minors_involved": {"type": "boolean"},
            }
        ),
        "languages": {
            "type": "array",
            "items": _STRING,
            "description": "BCP 47 tags of the languages the people speak",
        },
        "reply": _object(
            {
                "outcomes_url": {
                    **_STRING,
                    "description": "Where to POST the outcome, with your network key",
                },
                "referral_id": _STRING,
                "contact": {**_NULLABLE_STRING, "description": "MIPROF's desk for a question"},
            },
            "How to answer",
        ),
    },
    "A referral of people to a shelter of your network: the facts needed to act, nothing "
    "about who reported.",
)


class Forwarder(integrations.Forwarder):
    """Sends `referral.created` to a shelter network's intake."""

    name = "shelter_network"

    def payload(self, referral: ForwardedReferral, context: ForwardContext) -> dict[str, Any]:
        persons = referral["persons"]
        shelter = referral["shelter"]
        return {
            "referral_id": referral["referral_id"],
            "shelter": {"id": shelter["id"], "name": shelter["name"]},
            "priority": referral["priority"],
            "department": referral["department"],
            "people": {
                "count": persons["count"],
                "minors": persons["minors"],
                "minors_involved": persons["minors_involved"],
            },
            "languages": list(referral["languages"]),
            "reply": {
                "outcomes_url": context.public_base_url.rstrip("/") + OUTCOMES_PATH,
                "referral_id": referral["referral_id"],
                "contact": context.contact or None,
            },
        }

    def data_schema(self) -> dict[str, Any]:
        return DATA_SCHEMA

    def classify(self, status: int | None, error: str | None) -> ForwardResult:
        if status is not None and 200 <= status < 300:
            return ForwardResult(ok=True, status=status)
        if status in REFUSED:
            return ForwardResult(ok=False, status=status, error="refused_by_intake")
        return ForwardResult(ok=False, status=status, error=error, retry=True)

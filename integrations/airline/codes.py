"""The airline's code lists (the `_codes` block of its reports) and the canonical codes they map to.

README.md shows the same tables; a test checks that they cover the `_codes` block of the
sample exactly. A code missing here is refused (422 naming it).
"""

from __future__ import annotations

# observations -> indicators (flight indicators, and general ones that apply to flights)
OBSERVATIONS: dict[str, str] = {
    "DOCS_HELD_BY_COMPANION": "documents_held_by_companion",
    "COMPANION_SPEAKS_FOR_PAX": "companion_answers_for_passenger",
    "UNSURE_DESTINATION": "unsure_of_destination",
    "FEARFUL": "fearful_of_authorities",
    "TICKET_PAID_BY_OTHER": "last_minute_ticket_paid_by_other",
    "VAGUE_JOB_OFFER": "vague_job_offer_abroad",
    "SEATED_APART_WATCHED": "seated_apart_but_watched",
    "VISIBLE_INJURIES": "signs_of_violence",
    "MINOR_WITH_UNRELATED_ADULT": "minor_with_unrelated_adult",
    "MINOR_ALONE": "minor_unaccompanied",
}

# crew.position -> reporter.role: the flight deck is neither cabin crew nor ground staff
POSITIONS: dict[str, str] = {
    "PURSER": "cabin_crew",
    "CABIN_ATTENDANT": "cabin_crew",
    "CAPTAIN": "other",
    "FIRST_OFFICER": "other",
    "GROUND_AGENT": "ground_staff",
}

# pax.minor -> persons.minors: Y is "at least one" (the report does not count them)
MINOR: dict[str, int | None] = {"Y": 1, "N": 0, "U": None}

# risk_now -> persons.in_immediate_danger
RISK_NOW: dict[str, bool] = {"Y": True, "N": False}

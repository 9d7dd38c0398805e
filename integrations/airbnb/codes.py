"""The platform's codes and the canonical codes they map to (README.md shows the same tables).

The sample case uses four concern codes; the others are the rest of the platform's
trust & safety taxonomy for stays. A code missing here is refused (422 naming it).
"""

from __future__ import annotations

# concerns -> indicators
CONCERNS: dict[str, str] = {
    "EXTRA_GUESTS": "more_occupants_than_booked",
    "HIGH_VISITOR_TRAFFIC": "frequent_visitors",
    "THIRD_PARTY_BOOKING": "booked_by_absent_third_party",
    "CASH_PAYMENT": "cash_or_prepaid_payment",
    "FEW_BELONGINGS": "long_stay_few_belongings",
    "REFUSED_ACCESS": "refuses_cleaning_or_access",
    "ADULT_SERVICES_SIGNS": "sexual_services_signs",
    "WORKERS_HOUSED": "workers_housed_collectively",
    "GROUP_TRANSPORT": "transported_to_work_in_groups",
    "SECURITY_MEASURES": "unusual_security_measures",
    "OVERCROWDED_CONDITIONS": "abusive_living_conditions",
    "GUEST_CONTROLLED_BY_OTHER": "controlled_by_third_party",
    "MOVEMENT_RESTRICTED": "restricted_movement",
    "ID_DOCUMENTS_HELD": "identity_documents_withheld",
    "VISIBLE_INJURIES": "signs_of_violence",
    "THREATS": "threats_or_intimidation",
    "MINOR_WITH_ADULT": "minor_with_unrelated_adult",
    "MINOR_ALONE": "minor_unaccompanied",
}

# suspected_type -> suspected_exploitation (one code)
SUSPECTED_TYPES: dict[str, str] = {
    "SEX_TRAFFICKING": "sexual",
    "LABOR_TRAFFICKING": "labour",
    "DOMESTIC_SERVITUDE": "domestic_servitude",
    "FORCED_CRIMINALITY": "forced_criminality",
    "FORCED_BEGGING": "forced_begging",
    "OTHER": "other",
    "UNKNOWN": "unknown",
}

# reported_by.type -> reporter.role
REPORTER_TYPES: dict[str, str] = {
    "HOST": "host",
    "CO_HOST": "host",
    "CLEANER": "cleaning_staff",
    "GUEST": "guest",
    "NEIGHBOR": "neighbour",
    "TRUST_AND_SAFETY_AGENT": "platform_staff",
    "OTHER": "other",
}

# minors_present -> persons.minors: YES is "at least one" (the number is not known)
MINORS_PRESENT: dict[str, int | None] = {"YES": 1, "NO": 0, "UNKNOWN": None}

"""The platform's case onto the canonical report, remembering where each field came from."""

from __future__ import annotations

from typing import Any

from integrations.airbnb.schema import CaseSchema
from integrations.native import Origins, iso, language, load
from vigie.integrations import Mapped

SCHEMA = CaseSchema()


def _location(case: dict[str, Any], origins: Origins) -> dict[str, Any]:
    address = case["listing"]["address"]
    origins.add("location", "listing", "address")
    origins.add("location.postcode", "listing", "address", "zipcode")
    origins.add("location.department", "listing", "address", "zipcode")
    origins.add("location.country", "listing", "address", "country_code")
    location = {"country": address["country_code"], "postcode": address["zipcode"]}
    if "city" in address:
        origins.add("location.commune", "listing", "address", "city")
        location["commune"] = address["city"]
    return location


def _stay(case: dict[str, Any], origins: Origins) -> dict[str, Any]:
    reservation = case["reservation"]
    origins.add("stay", "reservation")
    origins.add("stay.listing_reference", "listing", "id")
    origins.add("stay.booking_reference", "reservation", "confirmation_code")
    origins.add("stay.check_in", "reservation", "start_date")
    origins.add("stay.check_out", "reservation", "end_date")
    origins.add("stay.guest_count", "reservation", "guests")
    stay = {
        "listing_reference": f"listing-{case['listing']['id']}",
        "check_in": iso(reservation["start_date"]),
        "check_out": iso(reservation["end_date"]),
        "guest_count": reservation["guests"],
    }
    if "confirmation_code" in reservation:
        stay["booking_reference"] = reservation["confirmation_code"]
    return stay


def _indicators(case: dict[str, Any], origins: Origins) -> list[str]:
    """Each concern's indicator, once; two concerns meaning the same indicator count once."""
    origins.add("indicators", "concerns")
    indicators: list[str] = []
    for position, code in enumerate(case["concerns"]):
        if code not in indicators:
            origins.add(f"indicators[{len(indicators)}]", "concerns", position)
            indicators.append(code)
    return indicators


def _reporter(case: dict[str, Any], origins: Origins) -> dict[str, Any]:
    """The reporter; the contact details go only with the reporter's consent (else not sent)."""
    by = case["reported_by"]
    origins.add("reporter", "reported_by")
    origins.add("reporter.role", "reported_by", "type")
    origins.add("reporter.contact_consent", "reported_by", "consent_to_contact")
    reporter: dict[str, Any] = {"role": by["type"], "contact_consent": by["consent_to_contact"]}
    contact = {}
    for native, canonical in (("display_name", "name"), ("phone", "phone"), ("email", "email")):
        if native in by:
            origins.add(f"reporter.contact.{canonical}", "reported_by", native)
            contact[canonical] = by[native]
    if contact and by["consent_to_contact"]:
        origins.add("reporter.contact", "reported_by")
        reporter["contact"] = contact
    return reporter


def to_canonical(native: Any) -> Mapped:
    case = load(SCHEMA, native)
    origins = Origins()
    origins.add("partner_reference", "case_id")
    origins.add("observed_at", "created_at")
    origins.add("suspected_exploitation", "suspected_type")
    origins.add("suspected_exploitation[0]", "suspected_type")
    origins.add("persons.count", "people_estimate")
    origins.add("persons.minors", "minors_present")
    origins.add("persons.in_immediate_danger", "immediate_danger")
    origins.add("description", "details")
    origins.add("language", "locale")
    report = {
        "partner_reference": case["case_id"],
        "context": "stay",
        "observed_at": iso(case["created_at"]),
        "location": _location(case, origins),
        "stay": _stay(case, origins),
        "indicators": _indicators(case, origins),
        "suspected_exploitation": [case["suspected_type"]],
        "persons": {
            "count": case["people_estimate"],
            "minors": case["minors_present"],
            "in_immediate_danger": case["immediate_danger"],
        },
        "description": case["details"],
        "reporter": _reporter(case, origins),
        "language": language(case["locale"]),
    }
    return Mapped(report, origins)

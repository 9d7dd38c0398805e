"""The crew report onto the canonical report, remembering where each field came from."""

from __future__ import annotations

from typing import Any

from integrations.airline.schema import CrewReportSchema
from integrations.native import Origins, iso, language, load
from vigie.integrations import Mapped

SCHEMA = CrewReportSchema()


def _origins() -> Origins:
    origins = Origins()
    for canonical, *native in (
        ("partner_reference", "report_ref"),
        ("observed_at", "observed_at_local"),
        ("flight", "flight"),
        ("flight.flight_number", "flight", "number"),
        ("flight.flight_date", "flight", "date"),
        ("flight.origin", "flight", "dep"),
        ("flight.destination", "flight", "arr"),
        ("indicators", "observations"),
        ("persons", "pax"),
        ("persons.count", "pax", "count"),
        ("persons.minors", "pax", "minor"),
        ("persons.in_immediate_danger", "risk_now"),
        ("description", "narrative"),
        ("reporter", "crew"),
        ("reporter.role", "crew", "position"),
        ("reporter.contact_consent", "crew", "may_contact"),
        ("language", "lang"),
    ):
        origins.add(canonical, *native)
    return origins


def _indicators(report: dict[str, Any], origins: Origins) -> list[str]:
    """Each observation's indicator, once, remembering the observation's position."""
    indicators: list[str] = []
    for position, code in enumerate(report["observations"]):
        if code not in indicators:
            origins.add(f"indicators[{len(indicators)}]", "observations", position)
            indicators.append(code)
    return indicators


def to_canonical(native: Any) -> Mapped:
    crew_report = load(SCHEMA, native)
    flight, pax = crew_report["flight"], crew_report["pax"]
    origins = _origins()
    report = {
        "partner_reference": crew_report["report_ref"],
        "context": "flight",
        "observed_at": iso(crew_report["observed_at_local"]),
        "flight": {
            "flight_number": flight["carrier"] + flight["number"],
            "flight_date": iso(flight["date"]),
            "origin": flight["dep"],
            "destination": flight["arr"],
        },
        "indicators": _indicators(crew_report, origins),
        "suspected_exploitation": ["unknown"],  # a crew member reports signs, not a purpose
        "persons": {
            "count": pax["count"],
            "minors": pax["minor"],
            "in_immediate_danger": crew_report["risk_now"],
        },
        "description": crew_report["narrative"],
        "reporter": {
            "role": crew_report["crew"]["position"],
            "contact_consent": crew_report["crew"]["may_contact"],
        },
        "language": language(crew_report["lang"]),
    }
    return Mapped(report, origins)

"""The form onto the canonical report, remembering where each field came from."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from integrations.gites_de_france.schema import FormSchema
from integrations.native import Origins, iso, load
from vigie.integrations import Mapped, NativeError, NativeInvalid, pointer

SCHEMA = FormSchema()
PARIS = ZoneInfo("Europe/Paris")
EARLIEST_YEAR = 2000  # as the canonical observed_at


def local_instant(day: date, at: time, zone: ZoneInfo = PARIS) -> datetime | None:
    """The instant a wall-clock time in `zone` names; None if clocks skipped it that day.

    A time that happens twice (the hour repeated when clocks go back in October) is
    taken at its first occurrence, in summer time.
    """
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first occurrence
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local


def reference(form: dict[str, Any]) -> str:
    """The form has no id of its own: the gîte and the minute of the observation name it."""
    at: time = form["heure_observation"]
    return f"{form['gite_numero']}/{iso(form['date_observation'])}T{at:%H:%M}"


def _listed(
    origins: Origins, canonical: str, native: str, values: list[Any], *, one: bool
) -> list[Any]:
    """Distinct values of a list answer, each remembering its position in the form."""
    origins.add(canonical, native)
    distinct: list[Any] = []
    for position, value in enumerate(values):
        if value not in distinct:
            where = (native,) if one else (native, position)
            origins.add(f"{canonical}[{len(distinct)}]", *where)
            distinct.append(value)
    return distinct


def _origins() -> Origins:
    origins = Origins()
    for canonical, native in (
        ("partner_reference", "gite_numero"),
        ("observed_at", "date_observation"),
        ("location", "code_postal"),
        ("location.postcode", "code_postal"),
        ("location.department", "code_postal"),
        ("stay.listing_reference", "gite_numero"),
        ("stay.check_in", "arrivee"),
        ("stay.check_out", "depart"),
        ("stay.guest_count", "nb_personnes_reservation"),
        ("persons.count", "nb_personnes_vues"),
        ("persons.minors", "mineurs"),
        ("persons.in_immediate_danger", "danger_immediat"),
        ("description", "commentaire"),
        ("reporter.contact_consent", "contact_ok"),
    ):
        origins.add(canonical, native)
    return origins


def _observed_at(form: dict[str, Any]) -> datetime:
    day: date = form["date_observation"]
    if day.year < EARLIEST_YEAR:  # before converting: year 1 in Paris is year 0 in UTC
        raise NativeInvalid([NativeError(pointer("date_observation"), "Must not be before 2000.")])
    observed = local_instant(day, form["heure_observation"])
    if observed is None:
        detail = "This time does not exist in France on that day (clocks go forward)."
        raise NativeInvalid([NativeError(pointer("heure_observation"), detail)])
    return observed


def to_canonical(native: Any) -> Mapped:
    form = load(SCHEMA, native)
    observed = _observed_at(form)
    origins = _origins()
    report = {
        "partner_reference": reference(form),
        "context": "stay",
        "observed_at": iso(observed),
        "location": {"country": "FR", "postcode": form["code_postal"]},
        "stay": {
            "listing_reference": form["gite_numero"],
            "check_in": iso(form["arrivee"]),
            "check_out": iso(form["depart"]),
            "guest_count": form["nb_personnes_reservation"],
        },
        "indicators": _listed(
            origins, "indicators", "signes", form["signes"], one=isinstance(native["signes"], str)
        ),
        "suspected_exploitation": _listed(
            origins,
            "suspected_exploitation",
            "type_suspecte",
            form["type_suspecte"],
            one=isinstance(native["type_suspecte"], str),
        ),
        "persons": {
            "count": form["nb_personnes_vues"],
            "minors": form["mineurs"],
            "in_immediate_danger": form["danger_immediat"],
        },
        "description": form["commentaire"],
        "reporter": {"role": "host", "contact_consent": form["contact_ok"]},
        "language": "fr",
    }
    return Mapped(report, origins)

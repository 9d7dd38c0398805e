"""Hostile variants of each sample: always a 4xx problem document naming the partner's own
field (a JSON pointer into what it sent), never a 500, and nothing stored."""

from __future__ import annotations

import json

import pytest

from adapter_support import (
    ADAPTERS,
    DELETE,
    REFERENCE_FIELD,
    assert_problem,
    changed,
    error_pointers,
    post_native,
    post_raw,
    sample,
)

HUGE = "x" * 20_000
DEEP: object = "bottom"
for _ in range(12):  # 24 levels: under max_json_depth (deeper is a 400, tests/test_bodies.py)
    DEEP = {"a": [DEEP]}

# (adapter, JSON pointer, value put there, the pointer the problem must name, a text it quotes)
CASES = [
    # a trust & safety case
    ("airbnb", "/case_id", DELETE, "/case_id", "Missing"),
    ("airbnb", "/case_id", None, "/case_id", "null"),
    ("airbnb", "/case_id", HUGE, "/case_id", None),
    ("airbnb", "/case_id", 1842, "/case_id", None),
    ("airbnb", "/case_id", "TS\u200b\n1", "/case_id", "printable"),
    ("airbnb", "/concerns/3", "SPOOKY_VIBES", "/concerns/3", "SPOOKY_VIBES"),
    ("airbnb", "/concerns/0", 42, "/concerns/0", None),
    ("airbnb", "/concerns", [], "/concerns", None),
    ("airbnb", "/concerns", "EXTRA_GUESTS", "/concerns", None),
    ("airbnb", "/concerns", None, "/concerns", None),
    ("airbnb", "/concerns", {"EXTRA_GUESTS": True}, "/concerns", None),
    ("airbnb", "/suspected_type", "SPOOKY_VIBES", "/suspected_type", "SPOOKY_VIBES"),
    ("airbnb", "/suspected_type", ["SEX_TRAFFICKING"], "/suspected_type", None),
    ("airbnb", "/minors_present", "MAYBE", "/minors_present", "MAYBE"),
    ("airbnb", "/minors_present", True, "/minors_present", None),
    ("airbnb", "/minors_present", DELETE, "/minors_present", None),
    ("airbnb", "/people_estimate", "5", "/people_estimate", None),
    ("airbnb", "/people_estimate", True, "/people_estimate", None),
    ("airbnb", "/people_estimate", 5.5, "/people_estimate", None),
    ("airbnb", "/people_estimate", 0, "/people_estimate", None),
    ("airbnb", "/people_estimate", 10**30, "/people_estimate", None),
    ("airbnb", "/immediate_danger", "false", "/immediate_danger", None),
    ("airbnb", "/immediate_danger", None, "/immediate_danger", None),
    ("airbnb", "/created_at", "2026-11-20T21:40:00", "/created_at", None),
    ("airbnb", "/created_at", "2999-01-01T00:00:00Z", "/created_at", "future"),
    ("airbnb", "/created_at", "yesterday", "/created_at", None),
    ("airbnb", "/listing", [48213377], "/listing", "JSON object"),
    ("airbnb", "/listing/id", {}, "/listing/id", None),
    ("airbnb", "/listing/id", True, "/listing/id", None),
    ("airbnb", "/listing/address/zipcode", "99999", "/listing/address/zipcode", None),
    ("airbnb", "/listing/address/zipcode", 13003, "/listing/address/zipcode", None),
    ("airbnb", "/listing/address/country_code", "France", "/listing/address/country_code", None),
    ("airbnb", "/listing/address/city", HUGE, "/listing/address/city", None),
    ("airbnb", "/reservation/end_date", "2026-11-01", "/reservation/end_date", "start_date"),
    ("airbnb", "/reservation/start_date", "14/11/2026", "/reservation/start_date", None),
    ("airbnb", "/reservation/guests", 0, "/reservation/guests", None),
    ("airbnb", "/reservation", DELETE, "/reservation", None),
    ("airbnb", "/reported_by/type", "GHOST", "/reported_by/type", "GHOST"),
    ("airbnb", "/reported_by/phone", "call me maybe", "/reported_by/phone", None),
    ("airbnb", "/reported_by/consent_to_contact", "yes", "/reported_by/consent_to_contact", None),
    ("airbnb", "/details", HUGE, "/details", None),
    ("airbnb", "/details", DEEP, "/details", None),
    ("airbnb", "/locale", "!!", "/locale", None),
    ("airbnb", "/minor_count", 2, "/minor_count", "Unknown field"),
    # the gîtes form
    ("gites_de_france", "/gite_numero", DELETE, "/gite_numero", None),
    ("gites_de_france", "/gite_numero", None, "/gite_numero", None),
    ("gites_de_france", "/gite_numero", ["G-64-1123"], "/gite_numero", None),
    ("gites_de_france", "/signes/1", "Fantômes dans le grenier", "/signes/1", "Fantômes"),
    ("gites_de_france", "/signes/0", "SPOOKY_VIBES", "/signes/0", "SPOOKY_VIBES"),
    (
        "gites_de_france",
        "/signes/0",
        "Un accompagnateur garde le passeport ou la carte d'embarquement",
        "/signes/0",
        "accompagnateur",
    ),
    ("gites_de_france", "/signes", "SPOOKY_VIBES", "/signes", "SPOOKY_VIBES"),
    ("gites_de_france", "/signes", [], "/signes", None),
    ("gites_de_france", "/signes", {"a": 1}, "/signes", None),
    ("gites_de_france", "/type_suspecte", "Trafic de fantômes", "/type_suspecte", "fantômes"),
    ("gites_de_france", "/type_suspecte", None, "/type_suspecte", None),
    ("gites_de_france", "/mineurs", "peut-être", "/mineurs", "peut-être"),
    ("gites_de_france", "/mineurs", True, "/mineurs", None),
    ("gites_de_france", "/danger_immediat", "oui et non", "/danger_immediat", None),
    ("gites_de_france", "/danger_immediat", False, "/danger_immediat", None),
    ("gites_de_france", "/contact_ok", "peut-être", "/contact_ok", None),
    ("gites_de_france", "/date_observation", "2026-02-30", "/date_observation", None),
    ("gites_de_france", "/date_observation", "2999-01-01", "/date_observation", "future"),
    ("gites_de_france", "/date_observation", 20261122, "/date_observation", None),
    ("gites_de_france", "/date_observation", "0001-01-01", "/date_observation", "2000"),
    ("gites_de_france", "/date_observation", "01/01/1999", "/date_observation", "2000"),
    ("gites_de_france", "/heure_observation", "25:00", "/heure_observation", None),
    ("gites_de_france", "/heure_observation", "18:75", "/heure_observation", None),
    ("gites_de_france", "/heure_observation", 1830, "/heure_observation", None),
    ("gites_de_france", "/heure_observation", DELETE, "/heure_observation", None),
    ("gites_de_france", "/nb_personnes_vues", "onze", "/nb_personnes_vues", None),
    ("gites_de_france", "/nb_personnes_vues", 0, "/nb_personnes_vues", None),
    ("gites_de_france", "/nb_personnes_vues", -3, "/nb_personnes_vues", None),
    ("gites_de_france", "/nb_personnes_vues", 11.5, "/nb_personnes_vues", None),
    ("gites_de_france", "/nb_personnes_reservation", "9" * 6, "/nb_personnes_reservation", None),
    ("gites_de_france", "/code_postal", 64200, "/code_postal", None),
    ("gites_de_france", "/code_postal", "6420", "/code_postal", None),
    ("gites_de_france", "/depart", "2026-11-01", "/depart", "arrivee"),
    ("gites_de_france", "/commentaire", HUGE, "/commentaire", None),
    ("gites_de_france", "/email", "hote@example.org", "/email", "Unknown field"),
    # the crew report
    ("airline", "/report_ref", DELETE, "/report_ref", None),
    ("airline", "/report_ref", "", "/report_ref", None),
    ("airline", "/observations/1", "SPOOKY_VIBES", "/observations/1", "SPOOKY_VIBES"),
    ("airline", "/observations", [], "/observations", None),
    ("airline", "/observations", None, "/observations", None),
    ("airline", "/crew/position", "FLIGHT_ATTENDANT", "/crew/position", "FLIGHT_ATTENDANT"),
    ("airline", "/crew", ["PURSER"], "/crew", "JSON object"),
    ("airline", "/crew/may_contact", "N", "/crew/may_contact", None),
    ("airline", "/pax/minor", "MAYBE", "/pax/minor", "MAYBE"),
    ("airline", "/pax/minor", "y", "/pax/minor", None),
    ("airline", "/pax/count", 0, "/pax/count", None),
    ("airline", "/pax/count", "1", "/pax/count", None),
    ("airline", "/pax/est_age", 300, "/pax/est_age", None),
    ("airline", "/pax", DELETE, "/pax", None),
    ("airline", "/risk_now", "U", "/risk_now", "'U'"),
    ("airline", "/risk_now", True, "/risk_now", None),
    ("airline", "/flight/carrier", "Air France", "/flight/carrier", None),
    ("airline", "/flight/carrier", "12", "/flight/carrier", None),
    ("airline", "/flight/number", "10477", "/flight/number", None),
    ("airline", "/flight/number", 1047.5, "/flight/number", None),
    ("airline", "/flight/number", -1, "/flight/number", None),
    ("airline", "/flight/dep", "Otopeni", "/flight/dep", None),
    ("airline", "/flight/arr", "cdg", "/flight/arr", None),
    ("airline", "/flight/date", None, "/flight/date", None),
    ("airline", "/flight/seat_of_concern", {"row": 32}, "/flight/seat_of_concern", None),
    ("airline", "/observed_at_local", "2026-11-18T08:15:00", "/observed_at_local", "offset"),
    ("airline", "/observed_at_local", "1999-12-31T23:00:00+01:00", "/observed_at_local", None),
    ("airline", "/narrative", HUGE, "/narrative", None),
    ("airline", "/lang", 123, "/lang", None),
    ("airline", "/seat", "32C", "/seat", "Unknown field"),
]


@pytest.mark.parametrize(
    ("name", "path", "value", "named", "quoted"),
    CASES,
    ids=[f"{c[0]}{c[1]}={str(c[2])[:20]!r}" for c in CASES],
)
def test_a_hostile_field_is_a_422_naming_the_native_field(
    client, partner, name, path, value, named, quoted
):
    response = post_native(client, partner, name, changed(sample(name), path, value))
    problem = assert_problem(response, 422)
    assert "#" + named in error_pointers(response), problem
    if quoted is not None:
        details = [e["detail"] for e in problem["errors"] if e["pointer"] == "#" + named]
        assert any(quoted in d for d in details), details
    assert len(json.dumps(problem)) < 4000  # a huge value is not echoed back
    assert client.get("/v1/reports", headers=partner.headers).get_json() == []


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize(
    "body", [[], ["a list", "instead of an object"], "a string", 42, True, [{"case_id": 1}]]
)
def test_a_body_that_is_not_an_object_is_named_as_the_body(client, partner, name, body):
    problem = assert_problem(post_native(client, partner, name, body), 422)
    assert problem["errors"] == [
        {"field": "(body)", "pointer": "#", "detail": "Must be a JSON object."}
    ]


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_empty_object_names_every_required_native_field(client, partner, name):
    response = post_native(client, partner, name, {})
    assert_problem(response, 422)
    required = set(error_pointers(response))
    assert "#/" + REFERENCE_FIELD[name] in required
    assert all(p.startswith("#/") for p in required)


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ("{", 400),
        ('{"a": 1,}', 400),
        ("[" * 50_000 + "]" * 50_000, 400),
        ('{"a":' * 20_000 + "1" + "}" * 20_000, 400),
        ('{"case_id": ' + "9" * 5000 + "}", 400),
        (b"\xff\xfe{\x00}", 400),
        (
            '{"people_estimate": NaN, "pax": {"count": Infinity}, "nb_personnes_vues": -Infinity}',
            422,
        ),
        ('{"x": "' + "y" * 300_000 + '"}', 413),
        ("null", 422),
    ],
    ids=[
        "truncated",
        "trailing-comma",
        "deep-lists",
        "deep-objects",
        "huge-integer",
        "not-utf8",
        "nan-infinity",
        "over-256-KiB",
        "null",
    ],
)
def test_odd_json_is_a_4xx_never_a_500(client, partner, name, data, status):
    response = post_raw(client, partner, name, data)
    assert_problem(response, status)
    assert client.get("/v1/reports", headers=partner.headers).get_json() == []


def test_deep_and_odd_json_is_a_400_on_the_canonical_route_too(client, partner):
    for data in ("[" * 50_000 + "]" * 50_000, '{"partner_reference": ' + "1" * 5000 + "}"):
        response = client.post(
            "/v1/reports",
            data=data,
            headers={**partner.headers, "Content-Type": "application/json"},
        )
        assert assert_problem(response, 400)["errors"][0]["pointer"] == "#"


def test_codes_in_the_wrong_place_are_never_dropped_silently(client, partner):
    """A known code of another adapter is still unknown here, and the rest is not stored."""
    body = changed(sample("airbnb"), "/concerns/0", "DOCS_HELD_BY_COMPANION")
    response = post_native(client, partner, "airbnb", body)
    assert_problem(response, 422)
    assert "#/concerns/0" in error_pointers(response)
    assert client.get("/v1/reports", headers=partner.headers).get_json() == []

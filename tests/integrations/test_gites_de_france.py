"""The gîtes form: French labels however they are typed, oui/non, and a date and a time
of day in Paris turned into one instant, across the daylight-saving changes."""

from __future__ import annotations

import pytest
from integrations.gites_de_france.labels import SIGNS, TYPES
from integrations.native import plain_text

from adapter_support import assert_problem, error_pointers, post_native, sample
from vigie.reports.vocabulary import EXPLOITATION, INDICATORS


def _form(**fields):
    return {**sample("gites_de_france"), **fields}


def _stored(client, partner, make_staff, **fields):
    response = post_native(client, partner, "gites_de_france", _form(**fields))
    assert response.status_code == 201, response.get_json()
    op = make_staff()
    return client.get(
        f"/v1/triage/reports/{response.get_json()['id']}", headers=op.headers
    ).get_json()


@pytest.mark.parametrize(
    ("day", "at", "utc"),
    [
        ("2026-11-22", "18:30", "2026-11-22T17:30:00+00:00"),  # winter time, UTC+1
        ("2026-07-14", "18:30", "2026-07-14T16:30:00+00:00"),  # summer time, UTC+2
        ("2026-03-29", "01:30", "2026-03-29T00:30:00+00:00"),  # before clocks go forward
        ("2026-03-29", "03:30", "2026-03-29T01:30:00+00:00"),  # after: 02:00 became 03:00
        ("2026-10-25", "01:30", "2026-10-24T23:30:00+00:00"),  # before clocks go back
        ("2026-10-25", "02:30", "2026-10-25T00:30:00+00:00"),  # twice that night: the first
        ("2026-10-25", "03:30", "2026-10-25T02:30:00+00:00"),  # after: winter time again
        ("22/11/2026", "18h30", "2026-11-22T17:30:00+00:00"),  # as French forms write them
        ("2026-11-22", " 18 h ", "2026-11-22T17:00:00+00:00"),
    ],
)
def test_the_date_and_time_in_paris_become_one_instant(client, partner, make_staff, day, at, utc):
    # The stay must include the observation for the dates to make sense; any stay will do.
    detail = _stored(
        client,
        partner,
        make_staff,
        date_observation=day,
        heure_observation=at,
        arrivee="2026-03-01",
        depart="2026-11-30",
    )
    assert detail["observed_at"] == utc


def test_a_time_that_does_not_exist_in_paris_is_refused_at_the_time_field(client, partner):
    form = _form(date_observation="2026-03-29", heure_observation="02:30")
    response = post_native(client, partner, "gites_de_france", form)
    problem = assert_problem(response, 422)
    assert error_pointers(response) == ["#/heure_observation"]
    assert "does not exist" in problem["errors"][0]["detail"]


def test_the_same_gite_and_minute_is_the_same_report(client, partner):
    assert post_native(client, partner, "gites_de_france", _form()).status_code == 201
    later = _form(heure_observation="18:31")
    assert post_native(client, partner, "gites_de_france", later).status_code == 201
    again = post_native(client, partner, "gites_de_france", _form(heure_observation="18h30"))
    assert_problem(again, 409)


def test_labels_match_without_accents_case_or_spaces(client, partner, make_staff):
    detail = _stored(
        client,
        partner,
        make_staff,
        signes=[
            "  TRAVAILLEURS LOGES A PLUSIEURS,   matelas au sol ",
            "papiers d\u2019identité détenus par QUELQU\u2019UN d\u2019autre",  # typographic
            "Groupes conduits au travail et ramenés à heures fixes",
            "groupes conduits au travail et ramenes a heures fixes",  # the same, counted once
        ],
        type_suspecte=" exploitation PAR le Travail",
        mineurs=" NON ",
        danger_immediat="Oui",
        contact_ok="OUI",
    )
    assert detail["indicators"] == [
        "workers_housed_collectively",
        "identity_documents_withheld",
        "transported_to_work_in_groups",
    ]
    assert detail["suspected_exploitation"] == ["labour"]
    assert detail["persons"]["minors"] == 0
    assert detail["persons"]["in_immediate_danger"] is True
    assert detail["priority"] == "P1"
    assert detail["reporter"] == {"role": "host", "contact_consent": True, "contact": None}


def test_a_single_tick_may_come_as_a_string_and_minors_may_be_unknown(client, partner, make_staff):
    detail = _stored(
        client,
        partner,
        make_staff,
        signes="Verrous extérieurs, caméras, fenêtres occultées",
        type_suspecte=["Exploitation sexuelle", "Je ne sais pas"],
        mineurs="je ne sais pas",
        nb_personnes_vues="11",
        nb_personnes_reservation=" 4 ",
    )
    assert detail["indicators"] == ["unusual_security_measures"]
    assert detail["suspected_exploitation"] == ["sexual", "unknown"]
    assert detail["persons"]["minors"] is None
    assert detail["persons"]["count"] == 11


def test_an_unknown_single_label_is_named_at_its_field(client, partner):
    response = post_native(
        client, partner, "gites_de_france", _form(type_suspecte=["Exploitation sexuelle", "Ovni"])
    )
    assert_problem(response, 422)
    assert error_pointers(response) == ["#/type_suspecte/1"]


def test_every_label_of_the_vocabulary_is_recognised_and_none_collide():
    stay_or_any = [i for i in INDICATORS if i.context in ("stay", "any")]
    assert len({plain_text(i.fr) for i in stay_or_any}) == len(stay_or_any) == len(SIGNS)
    assert len({plain_text(e.fr) for e in EXPLOITATION}) == len(EXPLOITATION) == len(TYPES)

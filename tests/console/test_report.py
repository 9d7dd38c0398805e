"""Un signalement: the audited read, every field in French, and each action through the
same service as the API, with the same audit entries, events and partner-visible status."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from triage_support import P1, report, shelter
from vigie.audit.models import AuditEntry
from vigie.outbox.models import OutboxEvent

CONSENTED = {
    "role": "neighbour",
    "contact_consent": True,
    "contact": {"name": "Nina Voisine", "phone": "0600000001", "email": "nina@example.org"},
}


def _html(response):
    return response.get_data(as_text=True)


def _audit(db, report_id):
    with db.unit() as session:
        return [
            (e.action, e.actor)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.report_id == report_id).order_by(AuditEntry.seq)
            )
        ]


def _events(db):
    with db.unit() as session:
        return [e.type for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]


def _alert(html):
    found = re.search(r'role="alert"><p>(.*?)</p>', html, re.S)
    return found.group(1) if found else None


@pytest.fixture
def p1(partner, post_report):
    return report(post_report, partner, "PAGE-1", reporter=CONSENTED, **P1)


def test_opening_the_page_is_audited_as_the_apis_detail_read(db, client, p1, console_as):
    alice = console_as("operator", "Alice")
    assert alice.get(f"/console/reports/{p1}").status_code == 200
    api_reader = alice.actor
    client.get(f"/v1/triage/reports/{p1}", headers=api_reader.headers)
    assert _audit(db, p1) == [("report.read", api_reader["id"]), ("report.read", api_reader["id"])]


def test_the_page_shows_every_field_in_french(p1, console_as):
    html = _html(console_as("operator").get(f"/console/reports/{p1}"))
    assert html.count("<h1") == 1
    assert f'Signalement <span class="mono">{p1}</span>' in html
    for expected in (
        "Plus d&#39;occupants que prévu par la réservation ou la capacité",  # indicator
        "Exploitation sexuelle",  # form of exploitation
        "Marseille",
        "13003",
        "listing-48213377",  # stay
        "HMX4QK2PZB",
        "14/11/2026",  # check-in and check-out, as people read dates
        "05/12/2026",
        "Réservation pour 2 personnes",  # description
        "Voisin ou voisine",  # reporter role
        "Nina Voisine",  # contact, consented
        "0600000001",
        "API",  # channel
        "danger immédiat",
        "Personne n'a ce signalement en charge.",
    ):
        assert expected in html, expected
    assert ">Prendre en charge</button>" in html
    assert ">Passer en examen</button>" not in html  # not before the claim


def test_contact_details_are_shown_only_with_consent(partner, post_report, console_as):
    quiet = report(post_report, partner, "NOCONSENT", **P1)
    html = _html(console_as("operator").get(f"/console/reports/{quiet}"))
    assert "Accepte d'être contactée</dt><dd>non" in html
    assert "Téléphone" not in html


def test_a_flight_report_shows_its_flight(partner, post_report, console_as):
    flight = report(post_report, partner, "FLIGHT", as_flight=True)
    html = _html(console_as("operator").get(f"/console/reports/{flight}"))
    for expected in (
        "Vol",
        "AF1047",
        "18/11/2026",
        "OTP",
        "CDG",
        "Un accompagnateur garde le passeport",
    ):
        assert expected in html


def test_claim_review_orient_is_the_apis_path_with_its_audit_and_events(
    db, client, partner, p1, make_staff, console_as
):
    siao = shelter(client, make_staff("admin"))
    alice = console_as("operator", "Alice")
    page = f"/console/reports/{p1}"

    claimed = alice.follow(alice.post(f"{page}/claim"))
    html = _html(claimed)
    assert "Vous avez pris ce signalement en charge jusqu" in html
    assert 'role="status"' in html
    for button in ("Passer en examen", "Libérer", "Clore", "Orienter", "Ajouter une note"):
        assert f">{button}</button>" in html, button
    assert ">Prendre en charge</button>" not in html

    html = _html(alice.follow(alice.post(f"{page}/review")))
    assert "Le signalement est en examen." in html
    assert "<dt>Statut</dt><dd>En examen</dd>" in html

    assert "Orientation" in html
    assert siao["name"] in html
    assert "Couvre le département" in html
    assert "Capacité déclarée : 3 places disponibles sur 10" in html
    html = _html(
        alice.follow(
            alice.post(
                f"{page}/referrals",
                {"target_type": "emergency_shelter", "shelter_id": siao["id"]},
            )
        )
    )
    assert f"Orientation enregistrée vers {siao['name']}" in html
    assert "<dt>Statut</dt><dd>Orienté</dd>" in html
    assert "suite donnée" in html

    seen = client.get(f"/v1/reports/{p1}", headers=partner.headers).get_json()
    assert seen["status"] == "actioned"
    actions = [action for action, _ in _audit(db, p1) if action != "report.read"]
    assert actions == ["report.claimed", "report.transition", "referral.created"]
    assert _events(db) == [
        "report.received",
        "report.status_changed",
        "report.status_changed",
        "referral.created",
    ]
    free = client.get(f"/v1/shelters/{siao['id']}", headers=make_staff("admin").headers)
    assert free.get_json()["capacity_available"] == 2


def test_another_holder_is_named_and_an_operator_cannot_act(db, p1, console_as):
    alice = console_as("operator", "Alice")
    alice.post(f"/console/reports/{p1}/claim")
    bob = console_as("operator", "Bob")
    html = _html(bob.get(f"/console/reports/{p1}"))
    assert "<strong>Alice</strong> a ce signalement en charge jusqu" in html
    for button in (
        "Prendre en charge",
        "Passer en examen",
        "Orienter",
        "Clore",
        "Libérer",
        "Reprendre",
    ):
        assert f">{button}</button>" not in html, button
    assert ">Ajouter une note</button>" in html  # notes need no claim, as in the API

    before = [action for action, _ in _audit(db, p1) if action != "report.read"]
    for action in ("claim", "review", "release", "close"):
        response = bob.post(f"/console/reports/{p1}/{action}", {"closure_reason": "no_grounds"})
        assert response.status_code == 302, action
        shown = _html(bob.follow(response))
        message = _alert(shown) or ""
        assert "Alice a pris ce signalement en charge jusqu" in message, (action, message)
    assert [action for action, _ in _audit(db, p1) if action != "report.read"] == before


def test_a_supervisor_takes_over_and_reopens(db, p1, console_as):
    alice = console_as("operator", "Alice")
    alice.post(f"/console/reports/{p1}/claim")
    sam = console_as("supervisor", "Sam")
    html = _html(sam.get(f"/console/reports/{p1}"))
    assert ">Reprendre</button>" in html
    html = _html(sam.follow(sam.post(f"/console/reports/{p1}/takeover")))
    assert "Vous avez repris ce signalement en charge" in html
    html = _html(
        sam.follow(sam.post(f"/console/reports/{p1}/close", {"closure_reason": "no_grounds"}))
    )
    assert "Le signalement est clos." in html
    assert ">Rouvrir</button>" in html
    assert ">Rouvrir</button>" not in _html(alice.get(f"/console/reports/{p1}"))
    html = _html(sam.follow(sam.post(f"/console/reports/{p1}/reopen")))
    assert "Le signalement est rouvert" in html
    assert "<dt>Statut</dt><dd>En examen</dd>" in html
    actions = [a for a, _ in _audit(db, p1) if a != "report.read"]
    assert actions == [
        "report.claimed",
        "report.claim_taken_over",
        "report.transition",
        "report.claimed",
        "report.transition",
    ]


def test_closing_needs_a_reason_and_a_duplicate_needs_its_original(
    partner, post_report, p1, console_as
):
    other = report(post_report, partner, "ORIGINAL")
    alice = console_as("operator")
    alice.post(f"/console/reports/{p1}/claim")
    for data, expected in (
        ({}, "Choisissez un motif de clôture"),
        ({"closure_reason": "bogus"}, "Choisissez un motif de clôture"),
        ({"closure_reason": "duplicate"}, "Pour un doublon"),
        ({"closure_reason": "duplicate", "duplicate_of": "rep_nothere"}, "Pour un doublon"),
        ({"closure_reason": "no_grounds", "duplicate_of": other}, "Pour un doublon"),
    ):
        shown = _html(alice.follow(alice.post(f"/console/reports/{p1}/close", data)))
        assert expected in (_alert(shown) or ""), data
        assert "<dt>Statut</dt><dd>Reçu</dd>" in shown
    shown = _html(
        alice.follow(
            alice.post(
                f"/console/reports/{p1}/close",
                {"closure_reason": "duplicate", "duplicate_of": other},
            )
        )
    )
    assert "Le signalement est clos." in shown
    assert f'doublon de <a href="/console/reports/{other}">{other}</a>' in shown


def test_notes_are_added_and_shown_and_an_empty_one_is_refused(p1, console_as):
    alice = console_as("operator", "Alice")
    shown = _html(
        alice.follow(alice.post(f"/console/reports/{p1}/notes", {"body": "Appelé le 115."}))
    )
    assert "Note ajoutée." in shown
    assert "Appelé le 115." in shown
    refused = _html(alice.follow(alice.post(f"/console/reports/{p1}/notes", {"body": ""})))
    assert "La note doit contenir" in _alert(refused)


def test_tampered_forms_are_refused_in_french_never_a_500(client, p1, make_staff, console_as):
    shelter(client, make_staff("admin"))
    alice = console_as("operator")
    alice.post(f"/console/reports/{p1}/claim")
    for url, data in (
        ("referrals", {"target_type": "spaceship", "shelter_id": "shl_x"}),
        ("referrals", {"target_type": "emergency_shelter", "shelter_id": "shl_doesnotexist"}),
        ("referrals", {"target_type": "health", "shelter_id": "x" * 500}),
        ("notes", {"body": "x" * 10001}),
        ("close", {"closure_reason": "no_grounds", "comment": "y" * 6000}),
    ):
        response = alice.post(f"/console/reports/{p1}/{url}", data)
        assert response.status_code in (302, 404), (url, data)
        if response.status_code == 302:
            assert _alert(_html(alice.follow(response))), (url, data)
    nul = alice.post(f"/console/reports/{p1}/notes", {"body": "a\x00b"})
    assert nul.status_code == 400


def test_an_unknown_report_is_a_french_404_page(console_as):
    for url in ("/console/reports/rep_nope", "/console/reports/rep_nope/claim"):
        response = console_as("operator").get(url) if "claim" not in url else None
        if response is None:
            continue
        assert response.status_code == 404
        assert "Page introuvable" in _html(response)
    operator = console_as("operator", "Zoé")
    response = operator.post("/console/reports/rep_nope/claim")
    assert response.status_code == 404

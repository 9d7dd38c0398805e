"""The full report for operators, notes encrypted at rest, and the audit of every read."""

from __future__ import annotations

from sqlalchemy import select

from payloads import stay_report
from triage_support import report
from vigie.triage.models import Note

CONTACT = {"name": "Jeanne Hôte", "phone": "+33612345678", "email": "jeanne@example.org"}


def test_detail_decrypts_for_operators_and_is_audited(client, partner, make_staff, post_report):
    op, sam = make_staff(), make_staff("supervisor")
    rid = report(
        post_report,
        partner,
        "a",
        reporter={"role": "host", "contact_consent": True, "contact": CONTACT},
    )
    detail = client.get(f"/v1/triage/reports/{rid}", headers=op.headers)
    assert detail.status_code == 200
    body = detail.get_json()
    assert body["description"] == stay_report()["description"]
    assert body["reporter"]["contact"] == CONTACT
    assert body["stay"]["listing_reference"] == "listing-48213377"
    assert body["stay"]["booking_reference"] == "HMX4QK2PZB"
    assert body["partner_status"] == "received"
    log = client.get(f"/v1/audit?report_id={rid}", headers=sam.headers).get_json()
    assert [(e["action"], e["actor"]) for e in log] == [("report.read", op["id"])]
    assert log[0]["request_id"] == detail.headers["X-Request-Id"]
    assert client.get("/v1/triage/reports/rep_nope", headers=op.headers).status_code == 404


def test_flight_detail(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "f", as_flight=True)
    body = client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()
    assert body["flight"]["flight_number"] == "AF1047"
    assert body["stay"] is None


def test_notes_are_encrypted_and_never_shown_to_partners(
    client, db, partner, make_staff, post_report
):
    op = make_staff("operator", "Alice")
    rid = report(post_report, partner, "a")
    text = "Appel au 115 : rappel demain 9h"
    created = client.post(
        f"/v1/triage/reports/{rid}/notes", json={"body": text}, headers=op.headers
    )
    assert created.status_code == 201
    assert created.get_json()["author"]["name"] == "Alice"
    with db.unit() as session:
        stored = session.scalar(select(Note.body_enc))
    assert text not in stored
    detail = client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()
    assert [n["body"] for n in detail["notes"]] == [text]
    partner_view = client.get(f"/v1/reports/{rid}", headers=partner.headers)
    assert text not in partner_view.get_data(as_text=True)
    empty = client.post(f"/v1/triage/reports/{rid}/notes", json={"body": ""}, headers=op.headers)
    assert empty.status_code == 422
    assert empty.get_json()["errors"][0]["field"] == "body"


def test_related_reports_by_flight(client, make_partner, make_staff, post_report):
    op = make_staff()
    airline, other = make_partner("Airline"), make_partner("Other airline")
    first = report(post_report, airline, "f1", as_flight=True)
    second = report(post_report, other, "f2", as_flight=True)
    other_day = report(
        post_report,
        airline,
        "f3",
        as_flight=True,
        flight={
            "flight_number": "AF1047",
            "flight_date": "2026-11-19",
            "origin": "OTP",
            "destination": "CDG",
        },
    )
    detail = client.get(f"/v1/triage/reports/{first}", headers=op.headers).get_json()
    assert [(r["id"], r["reasons"]) for r in detail["related"]] == [(second, ["same_flight"])]
    assert other_day not in [r["id"] for r in detail["related"]]


def test_detail_writes_dates_as_the_report_gave_them(client, partner, make_staff, post_report):
    op = make_staff()
    stay = report(post_report, partner, "dates-stay")
    flight = report(post_report, partner, "dates-flight", as_flight=True)
    detail = client.get(f"/v1/triage/reports/{stay}", headers=op.headers).get_json()
    assert (detail["stay"]["check_in"], detail["stay"]["check_out"]) == ("2026-11-14", "2026-12-05")
    detail = client.get(f"/v1/triage/reports/{flight}", headers=op.headers).get_json()
    assert detail["flight"]["flight_date"] == "2026-11-18"

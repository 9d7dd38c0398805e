"""Erasure on request: `vigie report erase ID --reason ...` erases a closed report's personal
fields as retention does, audited with its reason; an open report is refused."""

from __future__ import annotations

import json

from triage_support import claim, move, report
from vigie.cli import main

CONTACT = {"role": "host", "contact_consent": True, "contact": {"name": "Jeanne"}}


def _erase(app, *args):
    return app.test_cli_runner().invoke(main, ["report", "erase", *args])


def _closed_report(client, op, post_report, partner, ref="erase-me"):
    rid = report(post_report, partner, ref, description="Deux femmes enfermées", reporter=CONTACT)
    client.post(f"/v1/triage/reports/{rid}/notes", json={"body": "appel 17"}, headers=op.headers)
    claim(client, op, rid)
    move(client, op, rid, "in_review", comment="vu l'hôte")
    client.post(
        f"/v1/triage/reports/{rid}/referrals",
        json={"target_type": "law_enforcement", "note": "OCRTEH"},
        headers=op.headers,
    )
    move(client, op, rid, "closed", closure_reason="handled_by_law_enforcement")
    return rid


def test_erase_removes_personal_fields_keeps_statistics_and_is_audited(
    app, client, partner, make_staff, post_report
):
    op, sam = make_staff(), make_staff("supervisor")
    rid = _closed_report(client, op, post_report, partner)
    other = _closed_report(client, op, post_report, partner, "keep-me")

    result = _erase(app, rid, "--reason", "demande RGPD n°2026-114", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == rid
    detail = client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()
    assert detail["purged_at"]
    assert detail["description"] is None
    assert detail["reporter"]["contact"] is None
    assert detail["stay"]["listing_reference"] is None
    assert detail["location"].get("commune") is None
    assert detail["notes"][0]["body"] is None
    assert all(h["comment"] is None for h in detail["history"])
    assert detail["referrals"][0]["note"] is None
    assert (detail["priority"], detail["closure_reason"]) == ("P4", "handled_by_law_enforcement")
    kept = client.get(f"/v1/triage/reports/{other}", headers=op.headers).get_json()
    assert kept["description"] == "Deux femmes enfermées"
    log = client.get(
        f"/v1/audit?report_id={rid}&action=report.erased", headers=sam.headers
    ).get_json()
    assert [(e["actor"].startswith("cli:"), e["details"]) for e in log] == [
        (True, {"reason": "demande RGPD n°2026-114"})
    ]


def test_an_open_report_is_not_erased(app, client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "open", description="Mineure seule", reporter=CONTACT)

    result = _erase(app, rid, "--reason", "demande")

    assert result.exit_code == 1
    assert "close it before erasing it" in result.output
    assert "Traceback" not in result.output
    detail = client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()
    assert (detail["description"], detail["purged_at"]) == ("Mineure seule", None)


def test_erasing_twice_unknown_ids_and_empty_reasons_are_refused(
    app, client, partner, make_staff, post_report
):
    op = make_staff()
    rid = _closed_report(client, op, post_report, partner)
    assert _erase(app, rid, "--reason", "  ").exit_code == 1
    assert (
        client.get(f"/v1/triage/reports/{rid}", headers=op.headers).get_json()["purged_at"] is None
    )
    assert _erase(app, rid, "--reason", "demande").exit_code == 0

    again = _erase(app, rid, "--reason", "demande")
    unknown = _erase(app, "rep_doesnotexist", "--reason", "demande")

    assert again.exit_code == 1
    assert "already erased" in again.output
    assert unknown.exit_code == 1
    assert "No report rep_doesnotexist" in unknown.output

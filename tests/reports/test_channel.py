"""Every report records the tool it came through, and operators see it."""

from __future__ import annotations

from payloads import stay_report
from triage_support import report


def _detail(client, op, report_id):
    return client.get(f"/v1/triage/reports/{report_id}", headers=op.headers).get_json()


def test_a_report_posted_to_the_api_came_through_api(client, partner, make_staff, post_report):
    op = make_staff()
    rid = report(post_report, partner, "one")
    assert _detail(client, op, rid)["channel"] == "api"


def test_a_report_of_a_batch_came_through_batch(client, partner, make_staff):
    op = make_staff()
    body = {"reports": [stay_report(partner_reference="b-1")]}
    answer = client.post("/v1/reports/batch", json=body, headers=partner.headers).get_json()
    rid = answer["results"][0]["id"]
    assert _detail(client, op, rid)["channel"] == "batch"

"""Each adapter's sample becomes a report, seen by operators with its channel, and a
report of the same facts posted in the canonical format is stored identically."""

from __future__ import annotations

import pytest

from adapter_support import (
    ADAPTERS,
    EXPECTED_PRIORITY,
    canonical_twin,
    post_native,
    sample,
)

# What differs between two reports of the same facts sent through two doors.
NOT_THE_FACTS = {
    "id",
    "partner_reference",
    "channel",
    "received_at",
    "updated_at",
    "due_at",
    "claim",
    "related",
}


def _detail(client, op, report_id):
    response = client.get(f"/v1/triage/reports/{report_id}", headers=op.headers)
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_sample_is_a_report_with_its_channel_and_priority(client, partner, make_staff, name):
    op = make_staff()
    response = post_native(client, partner, name, sample(name))
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    assert response.headers["Location"] == f"/v1/reports/{receipt['id']}"
    assert set(receipt) == {
        "id",
        "partner_reference",
        "status",
        "priority",
        "received_at",
        "links",
        "guidance",
    }
    assert (receipt["status"], receipt["priority"]) == ("received", EXPECTED_PRIORITY[name])

    detail = _detail(client, op, receipt["id"])
    assert detail["channel"] == f"adapter:{name}"
    assert detail["priority"] == EXPECTED_PRIORITY[name]

    # The partner reads it back like any of its reports.
    mine = client.get(receipt["links"]["self"], headers=partner.headers).get_json()
    assert (mine["id"], mine["priority"]) == (receipt["id"], receipt["priority"])


def test_minors_in_a_crew_report_bring_the_emergency_numbers(client, partner):
    receipt = post_native(client, partner, "airline", sample("airline")).get_json()
    assert receipt["guidance"]["language"] == "fr"
    assert "119" in [n["number"] for n in receipt["guidance"]["numbers"]]


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_adapter_report_and_a_canonical_report_of_the_same_facts_are_stored_alike(
    client, partner, make_staff, post_report, name
):
    op = make_staff()
    through_adapter = post_native(client, partner, name, sample(name))
    through_api = post_report(partner, canonical_twin(name))
    assert through_adapter.status_code == through_api.status_code == 201, (
        through_adapter.get_json(),
        through_api.get_json(),
    )

    adapted = _detail(client, op, through_adapter.get_json()["id"])
    canonical = _detail(client, op, through_api.get_json()["id"])
    assert (adapted["channel"], canonical["channel"]) == (f"adapter:{name}", "api")
    for detail in (adapted, canonical):
        for key in NOT_THE_FACTS:
            detail.pop(key)
    assert adapted == canonical
    assert through_adapter.get_json()["guidance"] == through_api.get_json()["guidance"]

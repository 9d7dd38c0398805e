"""docs/webhooks.md lists, for each event a partner may subscribe to, the fields of its `data`,
and the values of an endpoint's `disabled_reason`: both are checked against what the code
actually emits and serializes."""

from __future__ import annotations

import re

from sqlalchemy import select

from doc_blocks import ROOT
from triage_support import claim, move, report
from vigie.content import importing
from vigie.content import service as content
from vigie.outbox.models import OutboxEvent
from vigie.webhooks import dispatch
from vigie.webhooks import service as webhooks
from vigie.webhooks.models import PARTNER_EVENT_TYPES
from vigie.webhooks.schemas import EndpointSchema

GUIDE = (ROOT / "docs" / "webhooks.md").read_text("utf-8")
ROW = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \|[^|]*\|[^|]*\| (.*) \|$", flags=re.M)


def documented_fields() -> dict[str, set[str]]:
    """Event type -> the names in its `data` column (values in parentheses left out)."""
    return {
        event: set(re.findall(r"`([a-z_]+)`", re.sub(r"\(.*?\)", "", data)))
        for event, data in ROW.findall(GUIDE)
    }


def _emit_every_partner_event(app, client, partner, post_report, make_staff) -> None:
    runtime = app.extensions["vigie"]
    report_id = report(post_report, partner, "DOC-EVENTS-1")  # report.received
    operator = make_staff("operator")
    assert claim(client, operator, report_id).status_code == 200
    assert move(client, operator, report_id, "in_review").status_code == 200  # status_changed
    importing.load_seed(runtime)  # content.published
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["webhook.test"]},
        headers=partner.headers,
    ).get_json()
    test = client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    assert test.status_code == 202  # webhook.test
    with runtime.db.unit() as session:
        item = session.scalar(
            select(OutboxEvent.data["id"].as_string()).where(
                OutboxEvent.type == "content.published"
            )
        )
        content.retire(session=session, item_id=item, operator_id=None)  # content.retired
        found = webhooks.get_endpoint(
            session=session, partner_id=partner["pk"], endpoint_id=endpoint["id"]
        )
        dispatch.disable(session=session, endpoint=found, reason="gone")  # endpoint_disabled


def test_the_documented_data_fields_are_those_of_each_event(
    app, client, partner, post_report, make_staff
):
    _emit_every_partner_event(app, client, partner, post_report, make_staff)
    emitted: dict[str, set[str]] = {}
    with app.extensions["vigie"].db.unit(write=False) as session:
        for event_type, data in session.execute(select(OutboxEvent.type, OutboxEvent.data)):
            emitted.setdefault(event_type, set()).update(data)
    documented = documented_fields()
    assert set(documented) == set(PARTNER_EVENT_TYPES)
    assert {t: emitted.get(t) for t in PARTNER_EVENT_TYPES} == documented


def test_the_documented_disabled_reasons_are_the_schemas():
    documented = re.search(r"`disabled_reason` says why it is disabled: (.*?)\.\n", GUIDE, re.S)
    assert documented is not None
    names = re.findall(r"`([a-z_]+)` \(", documented.group(1))
    enum = EndpointSchema().fields["disabled_reason"].metadata["enum"]
    assert names == [reason for reason in enum if reason is not None]

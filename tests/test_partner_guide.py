"""docs/partners.md, run block by block against a live `vigie serve` and `vigie worker`:
every curl of the guide answers what the guide says, and the webhook it registers receives
deliveries that verify with the secret it was given."""

from __future__ import annotations

import json
import re

import pytest
from standardwebhooks import Webhook

from doc_blocks import ROOT, curl_outside_sh_blocks, http_responses, run_blocks, sh_blocks
from live import vigie_server
from webhook_receiver import Receiver, start_receiver, wait_until

GUIDE = ROOT / "docs" / "partners.md"
SEED = ROOT / "src" / "vigie" / "seed" / "content.json"
pytestmark = pytest.mark.slow


def test_every_curl_of_the_guide_is_in_a_block_that_runs():
    text = GUIDE.read_text("utf-8")
    assert curl_outside_sh_blocks(text) == []
    assert sum("curl " in block for block in sh_blocks(text)) >= 8


def test_the_guide_leaves_its_last_section_to_the_embeddable_form():
    headings = re.findall(r"^## .*$", GUIDE.read_text("utf-8"), flags=re.M)
    assert headings[-1] == "## The embeddable form and the button"


def test_the_partner_guide_works_as_written(tmp_path):
    receiver = Receiver()
    http, _thread = start_receiver(receiver)
    settings = {"VIGIE_WEBHOOK_ALLOW_PRIVATE": "true", "VIGIE_WORKER_POLL_SECONDS": "0.05"}
    try:
        with vigie_server(
            tmp_path, env=settings, setup=[("content", "load", str(SEED))], worker=True
        ) as server:
            env = {**server.env, "VIGIE_URL": server.url, "RECEIVER_URL": receiver.url}
            outputs = run_blocks(
                sh_blocks(GUIDE.read_text("utf-8")),
                cwd=tmp_path,
                env=env,
                epilogue='echo "$WEBHOOK_SECRET"',
            )
            secret = outputs.pop().strip()
            # The test event, and the report sent through the adapter after registering.
            wait_until(
                lambda: (
                    {"webhook.test", "report.received"}
                    <= {json.loads(d.body)["type"] for d in list(receiver.deliveries)}
                ),
                waiting_for="the test event and a report.received delivery",
            )
    finally:
        http.shutdown()
        http.server_close()

    (key, receipt, read, refused, retries, listing, endpoint, test_event, content, adapted) = (
        outputs[:10]
    )
    generated = outputs[10]  # "Generate a client"
    (embed_partner, form_page) = outputs[11:]  # the form's section (tests/embed/test_docs.py)
    assert re.search(r"^\d+ reports, the first received$", generated, flags=re.M), generated
    assert re.search(r'^200 [2-9]\d* items, ETag "\w+"$', generated, flags=re.M), generated
    assert "gites-exemple" in embed_partner
    assert (
        "frame-ancestors https://www.gites-exemple.fr https://proprietaires.gites-exemple.fr"
        in (form_page)
    )
    assert key.strip().startswith("API key: vk_")

    receipt = json.loads(receipt)
    assert (receipt["status"], receipt["priority"]) == ("received", "P1")
    assert "119" in [n["number"] for n in receipt["guidance"]["numbers"]]
    assert json.loads(read)["status"] == "received"

    problem = json.loads(refused)
    assert problem["status"] == 422
    assert {e["pointer"] for e in problem["errors"]} == {"#/stay/check_out", "#/indicators/0"}

    (first, again) = http_responses(retries)
    assert first[0] == again[0] == 201
    assert again[1]["idempotent-replayed"] == "true"
    assert json.loads(again[2]) == json.loads(first[2])

    ((status, headers, body),) = http_responses(listing)
    assert status == 200
    assert len(json.loads(body)) == 1
    assert 'rel="next"' in headers["link"]

    assert re.match(r"endpoint whe_\w+, secret whsec_\.\.\.", endpoint.strip())
    assert json.loads(test_event)["event_id"]

    count, not_modified = content.split()[0], content.split()[-1]
    assert int(count) >= 2
    assert not_modified == "304"

    adapted = json.loads(adapted)
    assert (adapted["partner_reference"], adapted["priority"]) == (
        "G-64-1123/2026-11-22T18:30",
        "P2",
    )

    # Each delivery verifies with the secret the guide's partner was given, as the guide's
    # Python receiver would check it.
    for delivery in receiver.deliveries:
        event = Webhook(secret).verify(delivery.body, delivery.headers)
        assert event["type"] in {"webhook.test", "report.received"}

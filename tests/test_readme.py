"""The README's partner quickstart, run block by block against a live `vigie serve`."""

from __future__ import annotations

import json
import re

import pytest

from doc_blocks import ROOT, http_responses, run_blocks, section, sh_blocks
from live import vigie_server

README = ROOT / "README.md"
pytestmark = pytest.mark.slow


def quickstart_blocks() -> list[str]:
    return sh_blocks(section(README.read_text("utf-8"), "## Partner quickstart"))


def test_the_partner_quickstart_works_as_written(tmp_path):
    blocks = quickstart_blocks()
    assert len(blocks) == 6
    with vigie_server(tmp_path) as server:
        outputs = run_blocks(blocks, cwd=tmp_path, env={**server.env, "VIGIE_URL": server.url})
        log = server.log.read_text("utf-8")

    key_line, receipt, read, retries, batch, listing = outputs
    assert key_line.startswith("API key: vk_")

    receipt = json.loads(receipt)
    assert receipt["status"] == "received"
    assert receipt["priority"] == "P1"  # a minor with sexual exploitation
    assert "119" in [n["number"] for n in receipt["guidance"]["numbers"]]

    read = json.loads(read)
    assert (read["id"], read["status"]) == (receipt["id"], "received")

    (first_status, first_headers, first_body), (again_status, again_headers, again_body) = (
        http_responses(retries)
    )
    assert first_status == again_status == 201
    assert "idempotent-replayed" not in first_headers
    assert again_headers["idempotent-replayed"] == "true"
    assert json.loads(again_body) == json.loads(first_body)

    results = json.loads(batch)["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert results[1]["problem"]["errors"][0]["field"] == "indicators[0]"

    ((status, headers, body),) = http_responses(listing)
    assert status == 200
    assert len(json.loads(body)) == 2
    assert re.match(
        r'<http://127\.0\.0\.1:\d+/v1/reports\?limit=2&cursor=[\w-]+>; rel="next"', headers["link"]
    )

    # The server's own log: one JSON line per request, no key, no report text.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert sum(line.get("message") == "request" for line in lines) >= 7
    assert "vk_" not in log
    assert "mineure" not in log
    assert "listing-48213377" not in log

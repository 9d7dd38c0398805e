"""The README's partner quickstart, run block by block against a live `vigie serve`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from live import vigie_server

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = pytest.mark.slow


def quickstart_blocks() -> list[str]:
    text = README.read_text("utf-8")
    section = text.split("## Partner quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def _http_responses(output: str) -> list[tuple[int, dict[str, str], str]]:
    """Split `curl -i` output into (status, headers, body) triples."""
    responses = []
    for chunk in re.split(r"(?=^HTTP/1\.[01] )", output, flags=re.M):
        if not chunk.strip():
            continue
        head, _, body = chunk.replace("\r\n", "\n").partition("\n\n")
        status_line, *header_lines = head.splitlines()
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        responses.append((int(status_line.split()[1]), headers, body.strip()))
    return responses


def test_the_partner_quickstart_works_as_written(tmp_path):
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's quickstart")
    blocks = quickstart_blocks()
    assert len(blocks) == 6
    script = "".join(f'echo "@@block {i}"\n{block}' for i, block in enumerate(blocks))
    with vigie_server(tmp_path) as server:
        env = {**server.env, "VIGIE_URL": server.url}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs = re.split(r"^@@block \d+\n", done.stdout, flags=re.M)[1:]
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
        _http_responses(retries)
    )
    assert first_status == again_status == 201
    assert "idempotent-replayed" not in first_headers
    assert again_headers["idempotent-replayed"] == "true"
    assert json.loads(again_body) == json.loads(first_body)

    results = json.loads(batch)["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert results[1]["problem"]["errors"][0]["field"] == "indicators[0]"

    ((status, headers, body),) = _http_responses(listing)
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

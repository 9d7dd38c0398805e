"""Idempotency across processes: concurrent retries against a live gunicorn with 2 workers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from live import vigie_server
from payloads import stay_report

pytestmark = pytest.mark.slow


def _post(url, key, body, idempotency_key):
    request = urllib.request.Request(
        url + "/v1/reports",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_concurrent_retries_on_two_worker_processes_store_one_report(tmp_path):
    with vigie_server(tmp_path) as server:
        created = json.loads(
            server.vigie(
                "partner",
                "create",
                "--name",
                "P",
                "--scopes",
                "reports:write,reports:read",
                "--json",
            )
        )
        key = created["api_key"]
        for attempt in range(3):  # three distinct reports, each retried 8 times at once
            body = stay_report(partner_reference=f"LIVE-{attempt}")
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda _, body=body, attempt=attempt: _post(
                            server.url, key, body, f"live-key-{attempt}"
                        ),
                        range(8),
                    )
                )
            statuses = [status for status, _, _ in answers]
            assert set(statuses) <= {201, 409}, answers
            fresh = [a for a in answers if a[0] == 201 and "Idempotent-Replayed" not in a[1]]
            assert len(fresh) == 1, answers
            ids = {body["id"] for status, _, body in answers if status == 201}
            assert ids == {fresh[0][2]["id"]}
            replay = _post(server.url, key, body, f"live-key-{attempt}")
            assert replay[0] == 201
            assert replay[1]["Idempotent-Replayed"] == "true"
            assert replay[2]["id"] == fresh[0][2]["id"]

        request = urllib.request.Request(
            server.url + "/v1/reports", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            listed = json.loads(response.read())
    assert sorted(r["partner_reference"] for r in listed) == ["LIVE-0", "LIVE-1", "LIVE-2"]

"""`vigie demo` (the README's first command): one process serving the API and running the worker."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import free_port
from payloads import stay_report
from webhook_receiver import Receiver, start_receiver

VIGIE = str(Path(sys.executable).parent / "vigie")


def _call(url: str, key: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _console_login(url: str, name: str, password: str) -> str:
    """Log in to the console as a browser would; where the login sends us."""
    import http.cookiejar
    import urllib.error
    import urllib.parse

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )
    with opener.open(f"{url}/console/", timeout=10) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "name": name, "password": password})
    with pytest.raises(urllib.error.HTTPError) as redirect:  # 302, not followed
        opener.open(f"{url}/console/login", data=form.encode(), timeout=10)
    redirect.value.close()
    assert redirect.value.code == 302
    return str(redirect.value.headers["Location"])


@contextlib.contextmanager
def running_demo(directory: Path, port: int, out: Path) -> Iterator[str]:
    """`vigie demo` with its state in `directory`; yields what it printed once it is ready.
    Nothing allows private webhook URLs here: the demo does it itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env |= {"VIGIE_VAR_DIR": str(directory / "var"), "VIGIE_WORKER_POLL_SECONDS": "0.1"}
    with out.open("w") as sink:
        process = subprocess.Popen(
            [VIGIE, "demo", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while "Stop with Ctrl-C." not in out.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, out.read_text()
            time.sleep(0.2)
        yield out.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def demo(tmp_path):
    port = free_port()
    with running_demo(tmp_path, port, tmp_path / "demo.out") as printed:
        yield f"http://127.0.0.1:{port}", printed


def test_demo_prints_keys_and_serves_api_content_and_webhooks(demo):
    url, printed = demo
    assert f"{url}/docs" in printed
    keys = list(dict.fromkeys(re.findall(r"(vk_[A-Za-z0-9_-]{40,})", printed)))
    tokens = re.findall(r"(vo_[A-Za-z0-9_-]{40,})", printed)
    assert len(keys) == 3
    assert len(tokens) == 4
    key = keys[0]

    # Seeded awareness content is served.
    status, items = _call(f"{url}/v1/content?locale=en", key)
    assert status == 200
    assert len(items) >= 8

    # The worker runs: a report posted now reaches the partner's endpoint, signed.
    receiver = Receiver()
    server, _ = start_receiver(receiver)
    try:
        status, endpoint = _call(
            f"{url}/v1/webhooks/endpoints",
            key,
            "POST",
            {"url": receiver.url, "events": ["report.received"], "description": "test"},
        )
        assert status == 201
        receiver.secrets.append(endpoint["secret"])
        status, receipt = _call(
            f"{url}/v1/reports", key, "POST", stay_report(partner_reference="DEMO-TEST-1")
        )
        assert status == 201
        receiver.wait_for(lambda: len(receiver.deliveries) >= 1, timeout=30)
        delivery = receiver.deliveries[0]
        assert delivery.verified_by == [0]
        assert delivery.payload["data"]["report_id"] == receipt["id"]
    finally:
        server.shutdown()
        server.server_close()

    # The console: its URL and a password for each staff account, which logs in.
    assert f"{url}/console/" in printed
    passwords = dict(re.findall(r"^  operator +(.+?) {2,}(demo-\S+)$", printed, re.M))
    assert list(passwords) == ["Opératrice démo"]
    assert _console_login(url, "Opératrice démo", passwords["Opératrice démo"]).endswith(
        "/console/queue"
    )

    # The seeded shelters are there for operators.
    supervisor = tokens[1]
    status, shelters = _call(f"{url}/v1/shelters", supervisor)
    assert status == 200
    assert len(shelters) == 3


def _banner(printed: str) -> list[str]:
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Vigie demo"))
    end = next(i for i, line in enumerate(lines) if line == "Stop with Ctrl-C.")
    return lines[start : end + 1]


def test_a_restarted_demo_keeps_and_reprints_its_keys_apart_from_the_logs(tmp_path):
    port = free_port()
    with running_demo(tmp_path, port, tmp_path / "first.out") as first:
        pass
    with running_demo(tmp_path, port, tmp_path / "second.out") as second:
        key = re.findall(r"(vk_[A-Za-z0-9_-]{40,})", second)[0]
        status, _ = _call(f"http://127.0.0.1:{port}/v1/reports", key)
        assert status == 200

    def credentials(printed: str) -> list[str]:
        found = re.findall(r"\b((?:vk|vo)_[A-Za-z0-9_-]{40,}|demo-[\w-]{16}$)", printed, re.M)
        return list(dict.fromkeys(found))

    assert len(credentials(first)) == 3 + 4 + 4
    assert credentials(second) == credentials(first)
    kept = tmp_path / "var" / "demo-credentials.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert f"Kept in {kept}" in second

    # The banner is in one piece: no JSON log line in the middle of it; the start-up logs
    # (the loopback warning among them) come before it.
    banner = _banner(second)
    assert not [line for line in banner if line.startswith("{")]
    assert f"  export VIGIE_URL=http://127.0.0.1:{port} KEY={key}" in banner
    before = second[: second.index("Vigie demo")]
    assert "VIGIE_WEBHOOK_ALLOW_PRIVATE is on" in before

"""OWASP API4:2023, unrestricted resource consumption: rate limits and the endpoint cap.

Partner operations are counted per API key and per scope (content reads, report writes and the
others apart), the embeddable form and the console's login per client address. Over a quota:
429 with `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy` fields. The counts live in
Redis when it is configured, shared by every app (process) using it; in memory otherwise.
Each test uses a key prefix of its own in Redis, so runs in parallel do not meet.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from limits.storage import storage_from_string

from console_support import Console
from embed_support import count, form_partner, submit
from payloads import stay_report
from vigie import ratelimit
from vigie.config import Config

SMALL = {
    "ratelimit_content_reads_per_minute": 4,
    "ratelimit_report_writes_per_minute": 3,
    "ratelimit_partner_other_per_minute": 5,
    "ratelimit_console_logins_per_minute": 3,
    "form_submissions_per_minute": 2,
}
RATELIMIT = re.compile(r'^"(?P<name>[a-z:]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')
PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "put", "post", "patch", "delete")


def _redis_url() -> str:
    url = os.environ.get("VIGIE_TEST_REDIS_URL")
    if not url:  # VIGIE_TEST_REQUIRE_ALL=1 (CI) stops the run before this (conftest)
        pytest.skip("VIGIE_TEST_REDIS_URL is not set")
    return url


@pytest.fixture(autouse=True)
def pinned_window(monkeypatch) -> list[float]:
    """The API's fixed windows, pinned: no test straddles a minute boundary by chance.
    `pinned_window[0] += 60` moves to the next window."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "wall_clock", lambda: now[0])
    return now


@pytest.fixture
def shared_store() -> Iterator[dict[str, Any]]:
    """Settings of a Redis store that only this test's apps use; its keys go afterwards."""
    url, prefix = _redis_url(), f"vigie-test-{uuid.uuid4().hex}"
    storage = storage_from_string(url, key_prefix=prefix)
    assert storage.check(), f"VIGIE_TEST_REDIS_URL={url}: Redis does not answer"
    yield {"redis_url": url, "ratelimit_key_prefix": prefix}
    storage.reset()


@pytest.fixture(params=["memory", "redis"])
def store(request) -> dict[str, Any]:
    if request.param == "memory":
        return {}
    return request.getfixturevalue("shared_store")


@pytest.fixture
def limited(make_app, store, app):
    """An app with small quotas, on the store of the test's parameter."""
    return make_app(**SMALL, **store)


def _usage(response) -> dict[str, Any]:
    found = RATELIMIT.match(response.headers["RateLimit"])
    assert found, response.headers["RateLimit"]
    return {"name": found["name"], "r": int(found["r"]), "t": int(found["t"])}


def _reads(client, actor, times: int) -> list[int]:
    return [client.get("/v1/reports", headers=actor.headers).status_code for _ in range(times)]


def _write(client, actor, n: int = 0):
    return client.post(
        "/v1/reports", json=stay_report(partner_reference=f"RL-{n}"), headers=actor.headers
    )


# -- the API: per key and per scope ---------------------------------------------------------


def test_past_its_quota_a_key_gets_a_429_problem_with_retry_after(limited, partner):
    client = limited.test_client()
    for left in range(4, -1, -1):
        ok = client.get("/v1/reports", headers=partner.headers)
        assert ok.status_code == 200
        assert ok.headers["RateLimit-Policy"] == '"reports:read";q=5;w=60'
        usage = _usage(ok)
        assert (usage["name"], usage["r"]) == ("reports:read", left)
        assert 1 <= usage["t"] <= 60
    over = client.get("/v1/reports", headers=partner.headers)
    assert over.status_code == 429
    assert over.mimetype == PROBLEM_JSON
    body = over.get_json()
    assert body["type"] == "/problems/too-many-requests"
    assert body["status"] == 429
    assert body["violated-policies"] == ["reports:read"]
    assert "quota of 5 requests needing reports:read per 60 seconds" in body["detail"]
    retry = int(over.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert over.headers["RateLimit-Policy"] == '"reports:read";q=5;w=60'
    assert _usage(over) == {"name": "reports:read", "r": 0, "t": retry}


def test_the_next_window_starts_again_from_the_quota(limited, partner, pinned_window):
    client = limited.test_client()
    assert _reads(client, partner, 6) == [200] * 5 + [429]
    pinned_window[0] += 60
    fresh = client.get("/v1/reports", headers=partner.headers)
    assert fresh.status_code == 200
    assert _usage(fresh)["r"] == 4


def test_another_partners_key_is_not_affected(limited, partner, make_partner):
    client = limited.test_client()
    other = make_partner("Autre plateforme")
    assert _reads(client, partner, 6)[-1] == 429
    assert _reads(client, other, 5) == [200] * 5
    assert _reads(client, partner, 1) == [429]


def test_reads_and_writes_are_counted_apart(limited, partner):
    client = limited.test_client()
    assert [_write(client, partner, n).status_code for n in range(4)] == [201] * 3 + [429]
    assert _reads(client, partner, 5) == [200] * 5  # reports:read: its own count
    content = client.get("/v1/content", headers=partner.headers)
    assert content.status_code == 200
    assert content.headers["RateLimit-Policy"] == '"content:read";q=4;w=60'
    assert _write(client, partner, 9).status_code == 429  # and writes stay refused


def test_each_report_of_a_batch_counts_as_a_write(limited, partner, db):
    client = limited.test_client()

    def batch(*refs: str):
        items = [stay_report(partner_reference=ref) for ref in refs]
        return client.post("/v1/reports/batch", json={"reports": items}, headers=partner.headers)

    over = batch("B-1", "B-2", "B-3", "B-4")
    assert over.status_code == 429
    assert over.get_json()["violated-policies"] == ["reports:write"]
    assert count(db, "reports") == 0  # nothing of the batch was stored
    limited.extensions["vigie.ratelimit"].limiter.reset()
    assert batch("B-1", "B-2").status_code == 200
    assert _usage(_write(client, partner, 5))["r"] == 0  # 2 + 1 of 3
    assert _write(client, partner, 6).status_code == 429


def test_content_reads_are_limited_even_when_answered_from_memory(limited, partner):
    client = limited.test_client()
    statuses = [client.get("/v1/content", headers=partner.headers).status_code for _ in range(5)]
    assert statuses == [200] * 4 + [429]  # from the 2nd on, the memoized answer serves them


def test_every_partner_operation_is_counted(make_app, partner, app):
    """A quota of 0: every operation a partner key may call answers 429 before anything else."""
    zero = make_app(
        ratelimit_content_reads_per_minute=0,
        ratelimit_report_writes_per_minute=0,
        ratelimit_partner_other_per_minute=0,
    )
    client = zero.test_client()
    document = zero.extensions["vigie.api"].spec.to_dict()
    called = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if not [r for r in operation.get("security", []) if "partnerKey" in r]:
                continue
            url = re.sub(r"\{[^}]+\}", "airbnb" if "integrations" in path else "x_1", path)
            response = client.open(url, method=method.upper(), json={}, headers=partner.headers)
            assert response.status_code == 429, (method, path, response.get_json())
            assert response.headers["Retry-After"]
            called.append((method, path))
    assert len(called) >= 15


def test_the_defaults_are_those_of_the_issue(make_app, partner, app):
    defaults = Config()
    assert defaults.ratelimit_content_reads_per_minute == 1200
    assert defaults.ratelimit_report_writes_per_minute == 600
    assert defaults.form_submissions_per_minute == 10
    assert defaults.webhook_max_endpoints_per_partner == 10
    assert defaults.ratelimit_enabled is True
    client = make_app().test_client()
    read = client.get("/v1/content", headers=partner.headers)
    assert read.headers["RateLimit-Policy"] == '"content:read";q=1200;w=60'
    write = _write(client, partner)
    assert write.headers["RateLimit-Policy"] == '"reports:write";q=600;w=60'


# -- per client address: the form and the console's login ----------------------------------


def test_form_submissions_are_limited_per_address(limited, db):
    client = limited.test_client()
    form_partner(db)
    answers = [submit(client, "gites-de-france", postcode="x") for _ in range(3)]
    assert [a.status_code for a in answers] == [422, 422, 429]
    over = answers[-1]
    retry = int(over.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert over.headers["RateLimit-Policy"] == '"form-submissions";q=2;w=60'
    assert over.headers["RateLimit"] == f'"form-submissions";r=0;t={retry}'
    elsewhere = limited.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert submit(elsewhere, "gites-de-france", postcode="x").status_code == 422  # its own count


def test_console_login_attempts_are_limited_per_address(limited):
    console = Console(limited.test_client())
    for n in range(3):
        assert console.login(f"personne {n}", "wrong password 123").status_code == 200
    refused = console.login("encore une autre", "wrong password 123")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Trop de tentatives de connexion" in refused.get_data(as_text=True)
    elsewhere = console.login(
        "encore une autre", "wrong password 123", environ_base={"REMOTE_ADDR": "192.0.2.44"}
    )
    assert elsewhere.status_code == 200


# -- several processes: one Redis -------------------------------------------------------------


def test_two_app_instances_on_one_redis_share_their_counts(make_app, shared_store, partner, app):
    first, second = (make_app(**SMALL, **shared_store).test_client() for _ in range(2))
    assert _write(first, partner, 1).status_code == 201
    assert _write(second, partner, 2).status_code == 201
    assert _write(first, partner, 3).status_code == 201
    assert _write(second, partner, 4).status_code == 429
    assert _write(first, partner, 5).status_code == 429


def test_failed_logins_on_one_instance_close_the_window_on_another(
    make_app, shared_store, make_staff, app
):
    """The growing refusal window after failed logins is counted in Redis too."""
    first, second = (Console(make_app(**shared_store).test_client()) for _ in range(2))
    for console in (first, second, first):
        assert console.login("Camille", "wrong password 123").status_code == 200
    refused = second.login("Camille", "wrong password 123")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] in ("1", "2")  # 2 s from the 3rd failure, on `first`


def test_without_redis_each_process_counts_on_its_own(make_app, partner, app):
    """The memory store: an exact limit per process, not across them (docs/CONFIGURATION.md)."""
    first, second = (make_app(**SMALL).test_client() for _ in range(2))
    assert [_write(first, partner, n).status_code for n in range(4)] == [201] * 3 + [429]
    assert _write(second, partner, 10).status_code == 201


def test_an_unreachable_store_stops_nothing(make_app, partner, db, make_staff, app, caplog):
    """Nothing listens on port 9: the API, the form and the console's login are still served."""
    broken = make_app(**SMALL, redis_url="redis://127.0.0.1:9/0").test_client()
    assert _reads(broken, partner, 7) == [200] * 7
    assert "RateLimit" not in broken.get("/v1/reports", headers=partner.headers).headers
    form_partner(db)
    assert submit(broken, "gites-de-france", postcode="x").status_code == 422
    assert Console(broken).login("Camille", "wrong password 123").status_code == 200
    assert [r.message for r in caplog.records if r.name == "vigie.ratelimit"] == [
        "rate-limit store unreachable: requests are served without limits"
    ]


# -- switched off -----------------------------------------------------------------------------


def test_ratelimit_enabled_false_switches_them_off(make_app, partner, db, app, monkeypatch):
    monkeypatch.setenv("VIGIE_RATELIMIT_ENABLED", "false")
    off = make_app(**SMALL)
    client = off.test_client()
    assert _reads(client, partner, 8) == [200] * 8
    response = _write(client, partner)
    assert "RateLimit" not in response.headers
    assert "RateLimit-Policy" not in response.headers
    form_partner(db)
    statuses = [submit(client, "gites-de-france", postcode="x").status_code for _ in range(4)]
    assert statuses == [422] * 4
    console = Console(client)
    assert [console.login(f"n{n}", "wrong password 123").status_code for n in range(5)] == [200] * 5


# -- webhook endpoints: at most 10 per partner --------------------------------------------------


def _register(client, actor, n: int):
    return client.post(
        "/v1/webhooks/endpoints",
        json={"url": f"http://127.0.0.1:9/hook-{n}", "events": ["report.received"]},
        headers=actor.headers,
    )


def test_a_partner_keeps_at_most_ten_webhook_endpoints(client, partner, make_partner):
    created = [_register(client, partner, n) for n in range(10)]
    assert [r.status_code for r in created] == [201] * 10
    refused = _register(client, partner, 10)
    assert refused.status_code == 409
    assert refused.mimetype == PROBLEM_JSON
    body = refused.get_json()
    assert body["limit"] == 10
    assert "at most 10 webhook endpoints" in body["detail"]
    listed = client.get("/v1/webhooks/endpoints?limit=100", headers=partner.headers).get_json()
    assert len(listed) == 10  # nothing was stored
    # another partner has its own ten; a deleted endpoint frees a place
    assert _register(client, make_partner("Autre"), 0).status_code == 201
    first = created[0].get_json()["id"]
    assert (
        client.delete(f"/v1/webhooks/endpoints/{first}", headers=partner.headers).status_code == 204
    )
    assert _register(client, partner, 11).status_code == 201


def test_the_endpoint_cap_is_configured(make_app, partner, app):
    client = make_app(webhook_max_endpoints_per_partner=2).test_client()
    statuses = [_register(client, partner, n).status_code for n in range(3)]
    assert statuses == [201, 201, 409]
    assert "at most 2 webhook endpoints" in _register(client, partner, 4).get_json()["detail"]

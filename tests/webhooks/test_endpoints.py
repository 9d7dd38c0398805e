"""Partners manage their own endpoints; URLs are checked against SSRF at registration."""

from __future__ import annotations

import pytest

from vigie.webhooks import outbound

HOOK = "http://127.0.0.1:9/hook"


def _create(client, actor, **body):
    body = {"url": HOOK, "events": ["report.received"], **body}
    return client.post("/v1/webhooks/endpoints", json=body, headers=actor.headers)


def test_create_shows_the_secret_once_and_the_endpoint_can_be_managed(client, partner):
    created = _create(client, partner, description="prod")
    assert created.status_code == 201, created.json
    body = created.json
    assert body["secret"].startswith("whsec_")
    assert created.headers["Location"] == f"/v1/webhooks/endpoints/{body['id']}"
    assert body["enabled"] is True
    assert body["events"] == ["report.received"]

    item = client.get(f"/v1/webhooks/endpoints/{body['id']}", headers=partner.headers)
    assert item.status_code == 200
    assert "secret" not in item.json
    assert body["secret"] not in item.get_data(as_text=True)
    listing = client.get("/v1/webhooks/endpoints", headers=partner.headers)
    assert [e["id"] for e in listing.json] == [body["id"]]

    patched = client.patch(
        f"/v1/webhooks/endpoints/{body['id']}",
        json={"events": ["report.received", "content.published"], "enabled": False},
        headers=partner.headers,
    )
    assert patched.status_code == 200
    assert patched.json["enabled"] is False
    assert patched.json["disabled_reason"] == "by_owner"
    assert patched.json["events"] == ["report.received", "content.published"]

    deleted = client.delete(f"/v1/webhooks/endpoints/{body['id']}", headers=partner.headers)
    assert deleted.status_code == 204
    gone = client.get(f"/v1/webhooks/endpoints/{body['id']}", headers=partner.headers)
    assert gone.status_code == 404


def test_unknown_event_type_is_422_naming_events(client, partner):
    response = _create(client, partner, events=["report.received", "triage.overdue"])
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "events"
    assert "triage.overdue" in response.json["errors"][0]["detail"]


def test_unknown_field_is_refused(client, partner):
    response = _create(client, partner, secret="whsec_mine")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "secret"


def test_a_partner_never_sees_another_partners_endpoints(client, make_partner):
    owner, other = make_partner("Owner"), make_partner("Other")
    endpoint = _create(client, owner).json["id"]
    base = f"/v1/webhooks/endpoints/{endpoint}"
    assert client.get(base, headers=other.headers).status_code == 404
    assert client.patch(base, json={"enabled": False}, headers=other.headers).status_code == 404
    assert client.delete(base, headers=other.headers).status_code == 404
    assert client.post(f"{base}/rotate-secret", headers=other.headers).status_code == 404
    assert client.post(f"{base}/test", headers=other.headers).status_code == 404
    assert client.get(f"{base}/deliveries", headers=other.headers).status_code == 404
    assert client.get("/v1/webhooks/endpoints", headers=other.headers).json == []


def test_the_scope_is_required(client, make_partner):
    reader = make_partner("Reader", scopes=("reports:read",))
    assert _create(client, reader).status_code == 403


def test_listing_pages_with_a_link_header(client, partner):
    ids = [_create(client, partner).json["id"] for _ in range(3)]
    first = client.get("/v1/webhooks/endpoints?limit=2", headers=partner.headers)
    assert [e["id"] for e in first.json] == ids[:2]
    link = first.headers["Link"]
    next_url = link[link.index("<") + 1 : link.index(">")]
    second = client.get(next_url, headers=partner.headers)
    assert [e["id"] for e in second.json] == ids[2:]
    assert "Link" not in second.headers


# -- SSRF at registration ---------------------------------------------------------

VECTORS = [
    "127.0.0.1",
    "10.254.0.0",
    "172.16.10.65",
    "192.168.10.65",
    "169.254.169.254",
    "100.100.0.0",
    "198.18.0.0",
    "0.1.2.3",
    "255.255.255.255",
    "192.0.2.255",
    "::1",
    "::ffff:127.0.0.1",
    "fc00::1",
    "fe80::1",
]


@pytest.fixture
def strict_client(make_app):
    return make_app(webhook_allow_private=False).test_client()


@pytest.fixture
def stub_dns(monkeypatch):
    """Names under .example resolve to what the test says; nothing else resolves."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        try:
            import ipaddress

            return [str(ipaddress.ip_address(host))]
        except ValueError:
            raise OSError("no such host") from None

    monkeypatch.setattr(outbound, "resolve", resolve)
    return table


@pytest.mark.parametrize("address", VECTORS)
def test_internal_addresses_are_refused_at_registration(strict_client, partner, address):
    host = f"[{address}]" if ":" in address else address
    response = _create(strict_client, partner, url=f"https://{host}/hook")
    assert response.status_code == 422, address
    assert response.json["errors"][0]["field"] == "url"


def test_a_name_resolving_to_loopback_is_refused(strict_client, partner, stub_dns):
    stub_dns["hooks.partner.example"] = ["93.184.215.14", "127.0.0.1"]
    response = _create(strict_client, partner, url="https://hooks.partner.example/hook")
    assert response.status_code == 422
    assert "not public" in response.json["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://user:pw@hooks.partner.example/hook", "user name"),
        ("ftp://hooks.partner.example/hook", "must use"),
        ("https://hooks.partner.example:22/hook", "port"),
        ("https://unknown.example/hook", "does not resolve"),
        ("not a url", "must use"),
    ],
)
def test_userinfo_schemes_and_ports_are_refused(strict_client, partner, stub_dns, url, why):
    stub_dns["hooks.partner.example"] = ["93.184.215.14"]
    response = _create(strict_client, partner, url=url)
    assert response.status_code == 422
    assert why in response.json["errors"][0]["detail"]


def test_a_public_https_url_is_accepted(strict_client, partner, stub_dns):
    stub_dns["hooks.partner.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    for url in ("https://hooks.partner.example/hook", "https://hooks.partner.example:8443/x"):
        assert _create(strict_client, partner, url=url).status_code == 201


def test_production_accepts_only_https(make_app, partner, stub_dns):
    stub_dns["hooks.partner.example"] = ["93.184.215.14"]
    production = make_app(env="production", webhook_allow_private=False).test_client()
    response = _create(production, partner, url="http://hooks.partner.example:443/hook")
    assert response.status_code == 422
    assert "https" in response.json["errors"][0]["detail"]


def test_patching_the_url_is_checked_too(strict_client, partner, stub_dns):
    stub_dns["hooks.partner.example"] = ["93.184.215.14"]
    endpoint = _create(strict_client, partner, url="https://hooks.partner.example/hook").json
    response = strict_client.patch(
        f"/v1/webhooks/endpoints/{endpoint['id']}",
        json={"url": "https://169.254.169.254/latest/meta-data"},
        headers=partner.headers,
    )
    assert response.status_code == 422


def test_allow_private_lifts_address_and_port_rules(client, partner):
    # the suite runs with webhook_allow_private=true, like a developer's machine
    assert _create(client, partner, url="http://127.0.0.1:65000/hook").status_code == 201
    assert _create(client, partner, url="http://user@127.0.0.1:65000/").status_code == 422


@pytest.mark.parametrize("address", VECTORS)
def test_internal_addresses_are_refused_at_send_without_a_connection(address):
    """The worker's client refuses before connecting: the error is recorded, nothing raised."""
    host = f"[{address}]" if ":" in address else address
    client = outbound.Client(outbound.Policy())
    result = client.post(f"https://{host}/hook", body=b"{}", headers={})
    assert result.status is None
    assert result.error == "unsafe_url:address"
    client.close()


def test_nul_in_an_endpoint_description_is_422_not_500(client, partner):
    # Found by the API fuzz on PostgreSQL, whose text type cannot hold U+0000.
    response = _create(client, partner, description="prod\x00")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "description"
    assert client.get("/v1/webhooks/endpoints", headers=partner.headers).json == []
    gone = client.get("/v1/webhooks/endpoints/whe_%00", headers=partner.headers)
    assert gone.status_code == 404


# -- the developer loop -------------------------------------------------------------


def test_testing_an_endpoint_not_subscribed_to_webhook_test_is_409_saying_how(client, partner):
    endpoint = _create(client, partner, events=["report.received"]).json
    response = client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    detail = response.json["detail"]
    assert "does not subscribe to webhook.test" in detail
    assert f"PATCH /v1/webhooks/endpoints/{endpoint['id']}" in detail
    assert '"events": ["report.received", "webhook.test"]' in detail
    # Doing what it says makes the test event go out.
    client.patch(
        f"/v1/webhooks/endpoints/{endpoint['id']}",
        json={"events": ["report.received", "webhook.test"]},
        headers=partner.headers,
    )
    queued = client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=partner.headers)
    assert queued.status_code == 202


def test_testing_a_disabled_endpoint_is_409(client, partner):
    endpoint = _create(client, partner, events=["webhook.test"]).json
    base = f"/v1/webhooks/endpoints/{endpoint['id']}"
    client.patch(base, json={"enabled": False}, headers=partner.headers)
    response = client.post(f"{base}/test", headers=partner.headers)
    assert response.status_code == 409
    assert '{"enabled": true}' in response.json["detail"]


def test_the_409_of_a_test_is_documented(client):
    operation = client.get("/openapi.json").json["paths"][
        "/v1/webhooks/endpoints/{endpoint_id}/test"
    ]
    assert "409" in operation["post"]["responses"]


@pytest.mark.parametrize(
    ("env", "url", "rule", "hint"),
    [
        ("development", "http://127.0.0.1:9000/hook", "port rule", True),
        ("development", "https://127.0.0.1/hook", "address rule", True),
        ("production", "https://127.0.0.1/hook", "address rule", False),
        ("production", "http://127.0.0.1:443/hook", "scheme rule", False),
    ],
)
def test_a_refused_url_names_its_rule_and_in_development_how_to_allow_local_receivers(
    make_app, partner, env, url, rule, hint
):
    app = make_app(env=env, webhook_allow_private=False)
    response = _create(app.test_client(), partner, url=url)
    assert response.status_code == 422
    detail = response.json["errors"][0]["detail"]
    assert f"Refused by the {rule}" in detail
    assert ("VIGIE_WEBHOOK_ALLOW_PRIVATE=true" in detail) is hint

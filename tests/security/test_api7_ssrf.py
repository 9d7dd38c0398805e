"""OWASP API7:2023, server-side request forgery: every URL Vigie will call is checked.

The one list of vectors is here: partner webhook URLs (registration and patch), the worker's
client at send time, and shelter-network intake URLs (`vigie shelter-network create` and
`set-intake`) all go through `vigie.webhooks.outbound.check_url`. Elsewhere:
DNS rebinding between registration and send, and the connection pinned to the checked address,
are in tests/webhooks/test_delivery.py ("SSRF at send and pinning") and
tests/webhooks/test_https_pinning.py; what a receiver answers is API10's
(test_api10_unsafe_consumption.py).
"""

from __future__ import annotations

import ipaddress

import pytest

from network_support import cli, create_network
from vigie.cli import main
from vigie.webhooks import outbound

# Hosts that are, or encode, an address that is not public.
INTERNAL = [
    "127.0.0.1",
    "127.1",  # short form
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",
    "017700000001",
    "localhost",
    "0.0.0.0",  # noqa: S104 - a vector, nothing listens
    "0",
    "10.254.0.0",
    "172.16.10.65",
    "192.168.10.65",
    "169.254.169.254",  # cloud metadata
    "100.100.0.0",  # shared (CGNAT)
    "198.18.0.0",  # benchmarking
    "0.1.2.3",
    "255.255.255.255",
    "192.0.2.255",  # documentation
    "224.0.0.1",  # multicast
    "::1",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:7f00:1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "2002:7f00:1::",  # 6to4 of loopback
    "fc00::1",  # unique local
    "fd12:3456::1",
    "fe80::1",  # link-local
]
PUBLIC_V4, PUBLIC_V6 = "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
ENDPOINTS = "/v1/webhooks/endpoints"


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _create(client, actor, url: str):
    body = {"url": url, "events": ["report.received"]}
    return client.post(ENDPOINTS, json=body, headers=actor.headers)


def _refused(response, why: str) -> None:
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["errors"][0]
    assert error["field"] == "url"
    assert why in error["detail"], error["detail"]


@pytest.fixture
def strict(make_app):
    """An app with the production address rules (the suite's default lifts them); its
    connections are closed after the test (PostgreSQL's are counted)."""
    made = make_app(webhook_allow_private=False)
    yield made
    made.extensions["vigie"].db.dispose()


@pytest.fixture
def strict_client(strict):
    return strict.test_client()


@pytest.fixture
def stub_dns(monkeypatch):
    """Names under .example resolve to what the test says; IP literals to themselves; nothing
    else resolves (no test reaches a real resolver for a name)."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            raise OSError("no such host") from None

    monkeypatch.setattr(outbound, "resolve", resolve)
    table["hooks.partner.example"] = [PUBLIC_V4, PUBLIC_V6]
    return table


# -- internal addresses, literal or encoded ------------------------------------------------------


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_at_registration(strict_client, partner, address):
    response = _create(strict_client, partner, f"https://{_host(address)}/hook")
    _refused(response, "not public")
    assert strict_client.get(ENDPOINTS, headers=partner.headers).get_json() == []


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_at_send_without_a_connection(address):
    """The worker's client checks again before connecting: recorded, never raised."""
    client = outbound.Client(outbound.Policy())
    result = client.post(f"https://{_host(address)}/hook", body=b"{}", headers={})
    client.close()
    assert (result.status, result.error) == (None, "unsafe_url:address")


@pytest.mark.parametrize("answers", [["127.0.0.1"], [PUBLIC_V4, "10.0.0.7"], ["fd00::1"]])
def test_a_name_resolving_to_any_internal_address_is_refused(
    strict_client, partner, stub_dns, answers
):
    stub_dns["hooks.partner.example"] = answers
    _refused(_create(strict_client, partner, "https://hooks.partner.example/hook"), "not public")


def test_patching_the_url_is_checked_too(strict_client, partner, stub_dns):
    endpoint = _create(strict_client, partner, "https://hooks.partner.example/hook").get_json()
    response = strict_client.patch(
        f"{ENDPOINTS}/{endpoint['id']}",
        json={"url": "https://169.254.169.254/latest/meta-data"},
        headers=partner.headers,
    )
    _refused(response, "not public")
    kept = strict_client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=partner.headers)
    assert kept.get_json()["url"] == "https://hooks.partner.example/hook"


# -- userinfo, schemes, ports --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://hooks.partner.example@127.0.0.1/hook", "user name"),
        ("https://user:pw@hooks.partner.example/hook", "user name"),
        ("https://127.0.0.1\\@hooks.partner.example/hook", "user name"),
        ("ftp://hooks.partner.example/hook", "must use"),
        ("file:///etc/passwd", "must use"),
        ("gopher://hooks.partner.example:443/_x", "must use"),
        ("javascript:alert(1)", "must use"),
        ("not a url", "must use"),
        ("https://hooks.partner.example:22/hook", "port"),
        ("https://hooks.partner.example:80/hook", "port"),
        ("https://hooks.partner.example:6379/hook", "port"),
        ("https://hooks.partner.example:0/hook", "port 0"),
        ("https://hooks.partner.example:65536/hook", "malformed"),
        ("https:///hook", "no host"),
        ("https://unknown.example/hook", "does not resolve"),
    ],
)
def test_userinfo_schemes_and_ports_are_refused(strict_client, partner, stub_dns, url, why):
    _refused(_create(strict_client, partner, url), why)


def test_port_0_is_refused_even_where_private_targets_are_allowed(client, partner, stub_dns):
    """Port 0 was read as the scheme's default (443) and accepted; it is never a service."""
    for url in ("https://hooks.partner.example:0/hook", "http://127.0.0.1:0/hook"):
        _refused(_create(client, partner, url), "port 0")
    sender = outbound.Client(outbound.Policy(https_only=False, allow_private=True))
    result = sender.post("http://127.0.0.1:0/hook", body=b"{}", headers={})
    sender.close()
    assert (result.status, result.error) == (None, "unsafe_url:port")


def test_a_public_https_url_on_an_allowed_port_is_accepted(strict_client, partner, stub_dns):
    for url in ("https://hooks.partner.example/hook", "https://hooks.partner.example:8443/x"):
        assert _create(strict_client, partner, url).status_code == 201


def test_production_accepts_only_https(make_app, partner, stub_dns):
    production = make_app(env="production", webhook_allow_private=False)
    response = _create(production.test_client(), partner, "http://hooks.partner.example:443/hook")
    production.extensions["vigie"].db.dispose()
    _refused(response, "https")


def test_allow_private_lifts_address_and_port_rules_but_not_userinfo(client, partner):
    # the suite runs with webhook_allow_private=true, like a developer's machine
    assert _create(client, partner, "http://127.0.0.1:65000/hook").status_code == 201
    _refused(_create(client, partner, "http://user@127.0.0.1:65000/"), "user name")


# -- redirects at delivery time -------------------------------------------------------------------


def test_a_redirect_to_an_internal_target_is_never_followed(receivers):
    """A receiver answering 3xx towards an internal service: the 3xx is the answer recorded,
    the internal service receives nothing (here both are on loopback, so only the redirect
    rule can be what stops it)."""
    internal = receivers()
    redirecting = receivers(behaviour=lambda *_: (307, {"Location": internal.url}))
    sender = outbound.Client(outbound.Policy(https_only=False, allow_private=True))
    result = sender.post(redirecting.url, body=b'{"type": "webhook.test"}', headers={})
    sender.close()
    assert result.status == 307
    assert not result.ok
    assert len(redirecting.deliveries) == 1
    assert internal.deliveries == []


# -- shelter-network intakes ------------------------------------------------------------------


def _network_cli(app, *args: str):
    return app.test_cli_runner().invoke(main, ["shelter-network", *args])


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://169.254.169.254/intake", "not public"),
        ("https://[::ffff:10.0.0.1]/intake", "not public"),
        ("https://[fd00::1]/intake", "not public"),
        ("https://siao.example@127.0.0.1/intake", "user name"),
        ("https://siao.example:0/intake", "port 0"),
        ("https://siao.example:22/intake", "port"),
    ],
)
def test_a_shelter_network_intake_url_goes_through_the_same_check(strict, app, stub_dns, url, why):
    stub_dns["siao.example"] = [PUBLIC_V4]
    created = _network_cli(strict, "create", "--name", "SIAO 13", "--intake-url", url)
    assert created.exit_code != 0
    assert why in created.output
    assert cli(strict, "shelter-network", "list", "--json") == []
    network = create_network(strict, "https://siao.example/intake")
    changed = _network_cli(strict, "set-intake", network["id"], "--url", url)
    assert changed.exit_code != 0
    assert why in changed.output
    listed = cli(strict, "shelter-network", "list", "--json")
    assert listed[0]["intake"]["url"] == "https://siao.example/intake"

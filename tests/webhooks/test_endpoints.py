"""Partners manage their own endpoints (the SSRF checks of their URLs:
tests/security/test_api7_ssrf.py)."""

from __future__ import annotations

import pytest

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
    ids = [_create(client, partner, url=f"{HOOK}-{n}").json["id"] for n in range(3)]
    first = client.get("/v1/webhooks/endpoints?limit=2", headers=partner.headers)
    assert [e["id"] for e in first.json] == ids[:2]
    link = first.headers["Link"]
    next_url = link[link.index("<") + 1 : link.index(">")]
    second = client.get(next_url, headers=partner.headers)
    assert [e["id"] for e in second.json] == ids[2:]
    assert "Link" not in second.headers


# SSRF (internal targets, encodings, DNS, userinfo, schemes, ports):
# tests/security/test_api7_ssrf.py


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

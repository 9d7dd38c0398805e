"""POST /v1/integrations/{adapter}/reports behaves like POST /v1/reports: keys and scopes,
Idempotency-Key, one report per reference; and only inbound adapters answer there."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from adapter_support import (
    ADAPTERS,
    REFERENCE_FIELD,
    assert_problem,
    changed,
    post_native,
    sample,
    url,
)
from vigie import integrations
from vigie.integrations import GROUP, Forwarder, InboundAdapter, NotInstalled

KEY = '"3f1c8a52-8d1e-4b9a-9d0c-6a1f0e4b7c21"'


def _reports(client, partner):
    return client.get("/v1/reports", headers=partner.headers).get_json()


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_retry_with_the_same_idempotency_key_replays_the_receipt(client, partner, name):
    first = post_native(client, partner, name, sample(name), **{"Idempotency-Key": KEY})
    again = post_native(client, partner, name, sample(name), **{"Idempotency-Key": KEY})
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert len(_reports(client, partner)) == 1

    other = changed(sample(name), "/" + REFERENCE_FIELD[name], "ANOTHER-REF-1")
    reused = post_native(client, partner, name, other, **{"Idempotency-Key": KEY})
    assert assert_problem(reused, 422)["type"] == "/problems/idempotency-key-reused"


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_same_reference_twice_is_409_naming_the_report_and_the_native_field(
    client, partner, name
):
    first = post_native(client, partner, name, sample(name))
    assert first.status_code == 201
    second = post_native(client, partner, name, sample(name))
    problem = assert_problem(second, 409)
    assert problem["existing_report_id"] == first.get_json()["id"]
    assert f"(from {REFERENCE_FIELD[name]})" in problem["detail"]
    assert len(_reports(client, partner)) == 1


def test_the_reference_is_per_partner(client, partner, make_partner):
    other = make_partner(name="Autre plateforme")
    assert post_native(client, partner, "airbnb", sample("airbnb")).status_code == 201
    assert post_native(client, other, "airbnb", sample("airbnb")).status_code == 201


def test_an_adapter_report_and_an_api_report_share_the_partner_references(
    client, partner, post_report
):
    from payloads import stay_report

    assert post_report(partner, stay_report(partner_reference="TS-2026-0001842")).status_code == 201
    problem = assert_problem(post_native(client, partner, "airbnb", sample("airbnb")), 409)
    assert problem["existing_report_id"].startswith("rep_")


@pytest.mark.parametrize(
    "name", ["nope", "shelter_network", "AIRBNB", "airbnb ", "..", "a" * 300, "integrations"]
)
def test_an_unknown_adapter_or_a_forwarder_is_404(client, partner, name):
    response = client.post(
        f"/v1/integrations/{name}/reports", json=sample("airbnb"), headers=partner.headers
    )
    problem = assert_problem(response, 404)
    assert len(problem["detail"]) < 200
    assert _reports(client, partner) == []


def test_a_404_comes_before_the_body_is_read(client, partner):
    response = client.post(
        "/v1/integrations/shelter_network/reports", json=[1, 2], headers=partner.headers
    )
    assert_problem(response, 404)


def test_the_partner_key_and_its_scope_are_required(client, make_partner):
    reader = make_partner(name="Lecture seule", scopes=("reports:read",))
    response = client.post(url("airbnb"), json=sample("airbnb"))
    assert_problem(response, 401)
    response = client.post(url("airbnb"), json=sample("airbnb"), headers=reader.headers)
    assert "reports:write" in assert_problem(response, 403)["detail"]
    unknown_and_anonymous = client.post(url("nope"), json={})
    assert_problem(unknown_and_anonymous, 401)


def test_other_methods_are_405(client, partner):
    response = client.get(url("airbnb"), headers=partner.headers)
    assert_problem(response, 405)


# -- the registry --------------------------------------------------------------------


class _Forwarder(Forwarder):
    name = "fake_forwarder"

    def payload(self, referral, context):  # pragma: no cover - never called
        raise AssertionError

    def classify(self, status, error):  # pragma: no cover - never called
        raise AssertionError


@pytest.fixture
def registry(monkeypatch):
    """Entry points as an installation with an adapter, a forwarder and a broken module."""
    entries = [
        EntryPoint("fake_adapter", "integrations.airbnb:Adapter", GROUP),
        EntryPoint("fake_forwarder", f"{__name__}:_Forwarder", GROUP),
        EntryPoint("broken", "integrations.not_installed_here:Adapter", GROUP),
    ]
    monkeypatch.setattr(integrations, "entry_points", lambda group: entries)


def test_load_refuses_a_forwarder_where_an_adapter_is_asked(registry):
    assert isinstance(integrations.load("fake_adapter", InboundAdapter), InboundAdapter)
    assert isinstance(integrations.load("fake_forwarder"), Forwarder)
    assert isinstance(integrations.load("fake_forwarder", Forwarder), Forwarder)
    with pytest.raises(NotInstalled):
        integrations.load("fake_forwarder", InboundAdapter)
    with pytest.raises(NotInstalled):
        integrations.load("fake_adapter", Forwarder)
    with pytest.raises(KeyError):  # NotInstalled is a KeyError, as load() always raised
        integrations.load("missing")


def test_an_integration_that_cannot_be_imported_is_not_installed(registry, caplog):
    with pytest.raises(NotInstalled):
        integrations.load("broken")
    assert "cannot be imported" in caplog.text
    assert integrations.available() == ["broken", "fake_adapter", "fake_forwarder"]
    assert integrations.available(InboundAdapter) == ["fake_adapter"]
    assert integrations.available(Forwarder) == ["fake_forwarder"]


def test_a_forwarder_registered_by_name_is_404_on_the_adapter_route(registry, client, partner):
    response = client.post(
        "/v1/integrations/fake_forwarder/reports", json=sample("airbnb"), headers=partner.headers
    )
    assert_problem(response, 404)


def test_the_installed_adapters_are_the_three_of_this_project():
    assert set(ADAPTERS) <= set(integrations.available(InboundAdapter))
    for name in ADAPTERS:
        adapter = integrations.load_adapter(name)
        assert adapter.name == name
        assert adapter.guide == f"integrations/{name}/README.md"

"""Embed origins: checked when set, from `vigie partner create` and `set-embed-origins`."""

from __future__ import annotations

import json

import pytest

from embed_support import form_partner
from vigie.cli import main
from vigie.errors import Invalid
from vigie.partners.origins import check_origin, check_origins


def _run(app, *args):
    return app.test_cli_runner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://www.gites-de-france.com", "https://www.gites-de-france.com"),
        ("  HTTPS://WWW.Example.ORG/ ", "https://www.example.org"),
        ("https://example.org:443", "https://example.org"),
        ("https://example.org:8443", "https://example.org:8443"),
        ("https://gîtes.example", "https://xn--gtes-0pa.example"),
        ("https://[2001:db8::1]", "https://[2001:db8::1]"),
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_an_origin_is_scheme_host_and_port(given, normal):
    assert check_origin(given, allow_loopback_http=True) == normal


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("*", "wildcards"),
        ("https://*.example.org", "wildcards"),
        ("https://example.org/embed", "no path"),
        ("https://example.org?x=1", "no path"),
        ("https://example.org#top", "no path"),
        ("https://user:pw@example.org", "no user name"),
        ("http://example.org", "must use https"),
        ("ftp://example.org", "must start with https://"),
        ("example.org", "must start with https://"),
        ("https:example.org", "must start with https://"),
        ("https://", "no host"),
        ("https://exa mple.org", "spaces"),
        ("https://a.org; script-src *", "wildcards"),
        ("https://a.org;", "semicolons"),
        ("https://a.org,https://b.org", "commas"),
        ("https://'self'", "quotes"),
        ("https://example.org:99999", "port"),
        ("https://example.org:0", "port"),
        ("https://-bad-.org", "not a valid domain name"),
        ("", "empty"),
    ],
)
def test_anything_else_is_refused_with_the_reason(given, says):
    with pytest.raises(Invalid) as refused:
        check_origin(given, allow_loopback_http=True)
    assert says in str(refused.value)
    assert refused.value.errors[0]["field"] == "embed_origins"


def test_http_on_loopback_only_outside_production():
    with pytest.raises(Invalid, match="must use https"):
        check_origin("http://localhost:5173", allow_loopback_http=False)
    with pytest.raises(Invalid, match="must use https"):
        check_origin("http://192.168.1.10", allow_loopback_http=True)


def test_duplicates_are_dropped_and_the_number_is_bounded():
    assert check_origins(
        ["https://a.example", "https://A.example/", "https://b.example"], allow_loopback_http=False
    ) == ["https://a.example", "https://b.example"]
    with pytest.raises(Invalid, match="At most 20"):
        check_origins([f"https://s{i}.example" for i in range(21)], allow_loopback_http=False)


def test_partner_create_sets_the_slug_and_the_origins(app, client):
    result = _run(
        app,
        "partner",
        "create",
        "--name",
        "Gîtes de France",
        "--slug",
        "gdf",
        "--embed-origin",
        "https://www.gites-de-france.com",
        "--embed-origin",
        "https://reservation.gites-de-france.com",
        "--json",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["slug"] == "gdf"
    assert created["embed_origins"] == [
        "https://www.gites-de-france.com",
        "https://reservation.gites-de-france.com",
    ]
    csp = client.get("/embed/gdf/report").headers["Content-Security-Policy"]
    assert csp.endswith(
        "frame-ancestors https://www.gites-de-france.com https://reservation.gites-de-france.com"
    )
    listed = json.loads(_run(app, "partner", "list", "--json").output)
    assert listed[0]["slug"] == "gdf"


def test_the_default_slug_is_the_name_and_no_origin_means_none(app, client):
    result = _run(app, "partner", "create", "--name", "Gîtes de France")
    assert result.exit_code == 0, result.output
    assert "/embed/gites-de-france/report" in result.output
    csp = client.get("/embed/gites-de-france/report").headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors 'none'")


def test_a_bad_origin_stops_the_command_and_creates_nothing(app):
    result = _run(app, "partner", "create", "--name", "X", "--embed-origin", "https://x.org/path")
    assert result.exit_code != 0
    assert "an origin has no path" in result.output
    assert json.loads(_run(app, "partner", "list", "--json").output) == []


def test_origins_can_be_replaced_and_removed_later_and_each_change_is_audited(
    app, client, db, make_staff
):
    host = form_partner(db, origins=("https://old.example",))
    result = _run(
        app,
        "partner",
        "set-embed-origins",
        host["id"],
        "--embed-origin",
        "https://new.example",
        "--embed-origin",
        "http://localhost:5173",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["embed_origins"] == [
        "https://new.example",
        "http://localhost:5173",
    ]
    csp = client.get("/embed/gites-de-france/report").headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors https://new.example http://localhost:5173")

    assert _run(app, "partner", "set-embed-origins", host["id"], "--none").exit_code == 0
    csp = client.get("/embed/gites-de-france/report").headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors 'none'")

    log = client.get("/v1/audit", headers=make_staff("supervisor").headers).get_json()
    changes = [e for e in log if e["action"] == "partner.embed_origins_set"]
    assert [e["details"]["embed_origins"] for e in changes] == [
        ["https://new.example", "http://localhost:5173"],
        [],
    ]
    assert all(e["actor"].startswith("cli:") and e["target"] == host["id"] for e in changes)


def test_set_embed_origins_needs_origins_or_none_and_a_known_partner(app, db):
    host = form_partner(db)
    neither = _run(app, "partner", "set-embed-origins", host["id"])
    assert neither.exit_code != 0
    assert "--none" in neither.output
    both = _run(
        app,
        "partner",
        "set-embed-origins",
        host["id"],
        "--none",
        "--embed-origin",
        "https://a.example",
    )
    assert both.exit_code != 0
    bad = _run(app, "partner", "set-embed-origins", host["id"], "--embed-origin", "*")
    assert bad.exit_code != 0
    assert "wildcards" in bad.output
    unknown = _run(
        app, "partner", "set-embed-origins", "ptn_nobody", "--embed-origin", "https://a.example"
    )
    assert unknown.exit_code != 0

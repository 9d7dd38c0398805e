"""OWASP API5:2023, broken function-level authorisation: every kind of caller against every
route of the URL map, API and console.

Who may call what is written here, apart from the code (EXPECTED, per endpoint and method;
the console's own table is tests/console/test_roles.py's, imported). A route the app serves
that neither table lists fails the first test, so nothing ships without saying who may use it.

For every (route, method, caller not allowed): no credential (or only a console session) is
401, a valid credential of another kind or without the scope or role is 403, the metrics
token's realm answers 401 to anything but its token, and the API 401 to that token;
never 2xx, and the database is
unchanged. The bodies sent are valid ones, so a missing check would write something.
Bearer credentials open no console page: they are treated as an anonymous visitor there.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select, text

from adapter_support import sample
from conftest import Actor
from console.conftest import _light_argon2, with_password  # noqa: F401 - fixtures
from console.test_roles import EXPECTED as CONSOLE_EXPECTED
from console.test_roles import PUBLIC as CONSOLE_PUBLIC
from console_support import Console
from network_support import create_network, network_shelter, refer
from payloads import stay_report
from triage_support import report
from vigie.content.examples import CONTENT_EXAMPLE
from vigie.credentials import ROLE_IMPLIES, ROLES, SCOPES
from vigie.models import Base
from vigie.webhooks import dispatch
from vigie.webhooks.models import WebhookDelivery

METRICS_TOKEN = "metrics-token-for-api5-" + "m" * 24
ANONYMOUS = "anonymous"
NETWORK = "network"
METRICS = "metrics"
PARTNER = {scope: f"partner[{scope}]" for scope in SCOPES}
STAFF = {role: f"staff[{role}]" for role in ROLES}
CONSOLE = {role: f"console[{role}]" for role in ROLES}
BEARERS = (*PARTNER.values(), NETWORK, *STAFF.values())
EVERYONE = frozenset({ANONYMOUS, METRICS, *BEARERS, *CONSOLE.values()})

TRIAGE = frozenset({STAFF["operator"], STAFF["supervisor"]})  # a supervisor is an operator too
SHELTER_READERS = TRIAGE | {STAFF["admin"]}
ADMINS = frozenset({STAFF["admin"]})
EDITORS = frozenset({STAFF["editor"]})
CONTENT_READERS = frozenset({PARTNER["content:read"]})
WRITERS = frozenset({PARTNER["reports:write"]})
READERS = frozenset({PARTNER["reports:read"]})
HOOKS = frozenset({PARTNER["webhooks:manage"]})

# (endpoint, method) -> the caller kinds allowed. EVERYONE: public (served without a credential).
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("health.Liveness", "GET"): EVERYONE,
    ("health.Readiness", "GET"): EVERYONE,
    ("api-docs.openapi_json", "GET"): EVERYONE,
    ("api-docs.openapi_swagger_ui", "GET"): EVERYONE,
    ("swagger_ui_asset", "GET"): EVERYONE,
    ("problems.index", "GET"): EVERYONE,
    ("problems.page", "GET"): EVERYONE,
    ("indicators.Vocabulary", "GET"): EVERYONE,  # the embedded forms fetch it without a key
    ("embed.button", "GET"): EVERYONE,
    ("embed.report_form", "GET"): EVERYONE,
    ("embed.report_submit", "POST"): EVERYONE,  # limited per address and by origin (API4, API6)
    ("embed.static", "GET"): EVERYONE,
    ("metrics.metrics", "GET"): frozenset({METRICS}),
    ("reports.Reports", "POST"): WRITERS,
    ("reports.Reports", "GET"): READERS,
    ("reports.ReportBatch", "POST"): WRITERS,
    ("reports.ReportItem", "GET"): READERS,
    ("intake.AdapterReports", "POST"): WRITERS,
    ("content.ContentList", "GET"): CONTENT_READERS,
    ("content.ContentRead", "GET"): CONTENT_READERS,
    ("content.AtomFeed", "GET"): CONTENT_READERS,
    ("content.JsonFeed", "GET"): CONTENT_READERS,
    ("webhooks.Endpoints", "GET"): HOOKS,
    ("webhooks.Endpoints", "POST"): HOOKS,
    ("webhooks.EndpointItem", "GET"): HOOKS,
    ("webhooks.EndpointItem", "PATCH"): HOOKS,
    ("webhooks.EndpointItem", "DELETE"): HOOKS,
    ("webhooks.RotateSecret", "POST"): HOOKS,
    ("webhooks.TestEvent", "POST"): HOOKS,
    ("webhooks.Deliveries", "GET"): HOOKS,
    ("webhooks.RetryDelivery", "POST"): HOOKS,
    ("shelter_network.NetworkOutcomes", "POST"): frozenset({NETWORK}),
    ("triage.Queue", "GET"): TRIAGE,
    ("triage.ReportDetail", "GET"): TRIAGE,
    ("triage.Claim", "POST"): TRIAGE,
    ("triage.Release", "POST"): TRIAGE,
    ("triage.Transitions", "POST"): TRIAGE,
    ("triage.Notes", "POST"): TRIAGE,
    ("referrals.Referrals", "GET"): TRIAGE,
    ("referrals.Referrals", "POST"): TRIAGE,
    ("referrals.ReferralItem", "PATCH"): TRIAGE,
    ("referrals.Suggestions", "GET"): TRIAGE,
    ("shelters.Shelters", "GET"): SHELTER_READERS,
    ("shelters.Shelters", "POST"): ADMINS,
    ("shelters.ShelterItem", "GET"): SHELTER_READERS,
    ("shelters.ShelterItem", "PATCH"): ADMINS,
    ("stats.Indicators", "GET"): frozenset({STAFF["supervisor"], STAFF["admin"]}),
    ("audit.AuditLog", "GET"): frozenset({STAFF["supervisor"]}),
    ("content-admin.ContentDrafts", "GET"): EDITORS,
    ("content-admin.ContentDrafts", "POST"): EDITORS,
    ("content-admin.ContentDraft", "GET"): EDITORS,
    ("content-admin.ContentDraft", "PATCH"): EDITORS,
    ("content-admin.ContentPublish", "POST"): EDITORS,
    ("content-admin.ContentRetire", "POST"): EDITORS,
}


def _api_rules(app):
    return [r for r in app.url_map.iter_rules() if not r.endpoint.startswith("console.")]


def _served(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in _api_rules(app)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# -- the world: one object of each kind, and one caller of each kind -------------------------


@pytest.fixture
def api(make_app, app):
    """The test app with /metrics on (it is served only when a token is configured); its
    connections are closed after the test (PostgreSQL's are counted)."""
    made = make_app(metrics_token=METRICS_TOKEN)
    yield made
    made.extensions["vigie"].db.dispose()


@pytest.fixture
def world(api, make_partner, make_staff, with_password) -> dict[str, Any]:  # noqa: F811
    client = api.test_client()
    callers: dict[str, Any] = {kind: None for kind in (ANONYMOUS, *CONSOLE.values())}
    for scope, kind in PARTNER.items():
        callers[kind] = make_partner(f"Partenaire {scope}", scopes=(scope,))
    for role, kind in STAFF.items():
        callers[kind] = make_staff(role, f"{role} api5")
    network = create_network(api, "http://127.0.0.1:9/intake")
    callers[NETWORK] = Actor(secret=network["api_key"])
    callers[METRICS] = Actor(secret=METRICS_TOKEN)
    consoles = {}
    for role in ROLES:  # as the console's own tests log in (console_as), on this app
        actor = with_password(make_staff(role, f"{role} console api5"))
        consoles[CONSOLE[role]] = Console(api.test_client(), actor)
        consoles[CONSOLE[role]].follow(consoles[CONSOLE[role]].login(actor["name"]))
    ids = _objects(api, client, callers, network)
    return {"app": api, "client": client, "callers": callers, "consoles": consoles, "ids": ids}


def _objects(api, client, callers, network) -> dict[str, str]:
    """A report referred to a network's shelter, a content draft, an endpoint with a
    delivery: each route is called on an object that exists."""
    admin, operator = callers[STAFF["admin"]], callers[STAFF["operator"]]
    writer, hooks = callers[PARTNER["reports:write"]], callers[PARTNER["webhooks:manage"]]
    sent = lambda actor, body: client.post("/v1/reports", json=body, headers=actor.headers)  # noqa: E731
    report_id = report(sent, writer, "API5-1")
    target = network_shelter(client, admin, network, capacity_available=2)
    referral = refer(client, operator, report_id, target["id"])
    draft = client.post(
        "/v1/admin/content", json=CONTENT_EXAMPLE, headers=callers[STAFF["editor"]].headers
    )
    assert draft.status_code == 201, draft.get_json()
    endpoint = client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["webhook.test"]},
        headers=hooks.headers,
    ).get_json()
    client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=hooks.headers)
    db = api.extensions["vigie"].db
    with db.unit() as session:
        dispatch.fan_out(session=session, is_sqlite=db.is_sqlite)
    with db.unit(write=False) as session:
        delivery = session.scalar(select(WebhookDelivery.public_id))
    return {
        "report_id": report_id,
        "referral_id": referral["id"],
        "shelter_id": target["id"],
        "item_id": draft.get_json()["id"],
        "endpoint_id": endpoint["id"],
        "delivery_id": delivery,
        "adapter": "airbnb",
        "slug": "not-found",
        "partner_slug": "inconnu",
        "filename": "console.css",
    }


def _bodies(ids: dict[str, str]) -> dict[tuple[str, str], Any]:
    """Valid bodies: a request let through by mistake would change something."""
    other_content = {**CONTENT_EXAMPLE, "key": "api5-other-item"}
    return {
        ("reports.Reports", "POST"): stay_report(partner_reference="API5-2"),
        ("reports.ReportBatch", "POST"): {"reports": [stay_report(partner_reference="API5-3")]},
        ("intake.AdapterReports", "POST"): sample("airbnb"),
        ("webhooks.Endpoints", "POST"): {
            "url": "http://127.0.0.1:9/other",
            "events": ["report.received"],
        },
        ("webhooks.EndpointItem", "PATCH"): {"enabled": False},
        ("shelter_network.NetworkOutcomes", "POST"): {
            "referral_id": ids["referral_id"],
            "outcome": "accepted",
        },
        ("triage.Claim", "POST"): {"takeover": True},
        ("triage.Transitions", "POST"): {"to": "in_review"},
        ("triage.Notes", "POST"): {"body": "Note qui ne doit pas être écrite"},
        ("referrals.Referrals", "POST"): {
            "target_type": "emergency_shelter",
            "shelter_id": ids["shelter_id"],
        },
        ("referrals.ReferralItem", "PATCH"): {"status": "accepted"},
        ("shelters.Shelters", "POST"): {"name": "CHRS API5", "type": "emergency_shelter"},
        ("shelters.ShelterItem", "PATCH"): {"capacity_available": 0},
        ("content-admin.ContentDrafts", "POST"): other_content,
        ("content-admin.ContentDraft", "PATCH"): {"audiences": ["cabin_crew"]},
    }


def _calls(app, ids: dict[str, str]) -> list[tuple[tuple[str, str], str, Any]]:
    """((endpoint, method), url, body) for every API rule and method."""
    bodies = _bodies(ids)
    calls = []
    for rule in _api_rules(app):
        _, url = rule.build({k: v for k, v in ids.items() if k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (rule.endpoint, method)
            calls.append((key, url, bodies.get(key)))
    return calls


def _call(world, kind: str, method: str, url: str, body: Any):
    caller = world["callers"][kind]
    if kind in world["consoles"]:  # the session cookie of a logged-in console, no bearer
        return world["consoles"][kind].client.open(url, method=method, json=body)
    headers = caller.headers if caller is not None else {}
    return world["client"].open(url, method=method, json=body, headers=headers)


def _snapshot(app) -> dict[str, str]:
    """A digest of every table's rows: what a refused request must leave as it was."""
    digests = {}
    with app.extensions["vigie"].db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(text(f"SELECT * FROM {table.name} ORDER BY 1")).all()  # noqa: S608
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _refusal(kind: str, endpoint: str) -> int:
    """401 where no credential of the route's mechanism was sent (the metrics token is not an
    API credential, nor API credentials a metrics one); 403 for a valid one of another kind."""
    unknown_here = kind in (ANONYMOUS, METRICS, *CONSOLE.values())
    if unknown_here or endpoint.startswith("metrics."):
        return 401
    return 403


# -- the tests -------------------------------------------------------------------------------------


def test_every_served_route_says_who_may_use_it(api):
    assert _served(api) == set(EXPECTED)
    console_endpoints = {r.endpoint for r in api.url_map.iter_rules()} - {
        r.endpoint for r in _api_rules(api)
    }
    assert console_endpoints == set(CONSOLE_EXPECTED)


def test_the_documented_security_of_each_operation_matches_the_table(api):
    """The OpenAPI document's security requirement names the callers EXPECTED lets in."""
    schemes = {"partnerKey": set(PARTNER.values()), "networkKey": {NETWORK}}
    schemes["staffToken"] = set(STAFF.values())
    paths = api.extensions["vigie.api"].spec.to_dict()["paths"]
    rules = {r.rule: r for r in _api_rules(api)}
    for path, item in paths.items():
        rule = rules[path.replace("{", "<string:").replace("}", ">")]
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            allowed = EXPECTED[(rule.endpoint, method.upper())]
            security = operation.get("security", [])
            if allowed == EVERYONE:
                assert security == [], (method, path)
                continue
            [(scheme, needs)] = security[0].items()
            assert allowed <= schemes[scheme], (method, path, scheme)
            if scheme == "partnerKey":
                assert allowed == {PARTNER[needs[0]]}, (method, path)
            if scheme == "staffToken":
                held = {r for r in ROLES if ({r} | ROLE_IMPLIES.get(r, set())) & set(needs)}
                assert allowed == {STAFF[r] for r in held}, (method, path, needs)


@pytest.mark.parametrize("kind", sorted(EVERYONE))
def test_no_caller_reaches_a_route_it_may_not_use_and_nothing_changes(world, kind):
    app, refused = world["app"], 0
    before = _snapshot(app)
    for (endpoint, method), url, body in _calls(app, world["ids"]):
        if kind in EXPECTED[(endpoint, method)]:
            continue
        response = _call(world, kind, method, url, body)
        expected = _refusal(kind, endpoint)
        assert response.status_code == expected, (kind, method, url, response.get_data()[:300])
        assert response.mimetype == "application/problem+json", (kind, method, url)
        if expected == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
        refused += 1
    assert _changed(before, _snapshot(app)) == [], kind
    assert refused >= 10, kind  # every kind of caller is kept out of most routes


@pytest.mark.parametrize("kind", sorted(EVERYONE - {ANONYMOUS}))
def test_each_caller_reaches_the_routes_it_may_use(world, kind):
    """The other side of the table: what EXPECTED allows is not refused (nor a 5xx)."""
    app, reached, wrote = world["app"], 0, False
    before = _snapshot(app)
    for (endpoint, method), url, body in _calls(app, world["ids"]):
        if kind not in EXPECTED[(endpoint, method)] or method == "DELETE":
            continue
        response = _call(world, kind, method, url, body)
        assert response.status_code not in (401, 403), (kind, method, url, response.get_json())
        assert response.status_code < 500, (kind, method, url)
        wrote = wrote or (method != "GET" and response.status_code < 300)
        reached += 1
    assert reached >= 1
    # The digest the refusals are checked with does see a write (it could not be constant).
    if wrote:
        assert _changed(before, _snapshot(app)), kind


@pytest.mark.parametrize("kind", BEARERS)
def test_bearer_credentials_open_no_console_page(world, kind):
    """The console knows only its own session: an API key or token there is an anonymous
    visitor, sent to the login page (401 for the queue's rows, fetched by script)."""
    client, caller = world["client"], world["callers"][kind]
    ids = {**world["ids"], "operator_id": "opr_unknown", "item_id": world["ids"]["item_id"]}
    before = _snapshot(world["app"])
    console = Console(client)
    console.get("/console/")  # the CSRF token of an anonymous session
    for rule in world["app"].url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or CONSOLE_EXPECTED[rule.endpoint] == (
            CONSOLE_PUBLIC
        ):
            continue
        _, url = rule.build({k: v for k, v in ids.items() if k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": console.token, "body": "x"} if method == "POST" else None
            response = client.open(url, method=method, data=data, headers=caller.headers)
            if rule.endpoint == "console.queue_rows":
                assert response.status_code == 401, (kind, url)
            else:
                assert response.status_code == 302, (kind, method, url, response.status_code)
                assert response.headers["Location"].split("?")[0] == "/console/"
    assert _changed(before, _snapshot(world["app"])) == [], kind


def test_a_supervisor_may_do_what_an_operator_may(world):
    """ROLE_IMPLIES, checked on the table: no triage route is for operators alone."""
    for key, allowed in EXPECTED.items():
        if STAFF["operator"] in allowed:
            assert STAFF["supervisor"] in allowed, key


def test_the_admin_reaches_no_triage_and_the_editor_nothing_but_content(world):
    """Separation of duties, as the table says it (and the sweeps prove it)."""
    admin_routes = {k for k, v in EXPECTED.items() if STAFF["admin"] in v and v != EVERYONE}
    editor_routes = {k for k, v in EXPECTED.items() if STAFF["editor"] in v and v != EVERYONE}
    assert not any(endpoint.startswith(("triage.", "referrals.")) for endpoint, _ in admin_routes)
    assert {endpoint.split(".")[0] for endpoint, _ in editor_routes} == {"content-admin"}

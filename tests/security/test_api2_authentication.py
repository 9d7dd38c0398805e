"""OWASP API2:2023 Broken Authentication: only `Authorization: Bearer <secret>` authenticates,
a revoked, rotated or disabled credential stops at once (API and console), and a refusal never
tells whether an account or key exists.

Every operation of the OpenAPI document that declares a security scheme is checked, so a new
operation cannot escape: without a credential, with a malformed one, with a revoked one and
with a valid one in the query string or the body, it answers the same 401 problem document.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from console_support import PASSWORD, Console
from network_support import cli, create_network
from vigie.console.account import LOGIN_FAILED
from vigie.operators import service as operators
from vigie.operators.models import Operator

PROBLEM_JSON = "application/problem+json"
STAFF_ROLES = ("operator", "supervisor", "editor", "admin")
WWW_AUTHENTICATE = {
    "missing": 'Bearer realm="vigie"',
    "invalid": 'Bearer realm="vigie", error="invalid_token"',
}
PER_REQUEST = {"request_id"}


def run(app, *args: str) -> dict[str, Any]:
    return cli(app, *args, "--json")


def refusal(response) -> tuple[int, str | None, dict[str, Any], str | None]:
    """What a refused caller learns: status, media type, body, challenge."""
    body = {k: v for k, v in (response.get_json() or {}).items() if k not in PER_REQUEST}
    return (
        response.status_code,
        response.mimetype,
        body,
        response.headers.get("WWW-Authenticate"),
    )


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# -- one operation per caller kind, for the detailed cases ---------------------------------

PARTNER_GET = "/v1/reports"
STAFF_GET = "/v1/triage/queue"


@pytest.fixture
def callers(app, partner, make_staff):
    network = create_network(app, "http://127.0.0.1:9/intake")
    staff = {role: make_staff(role) for role in STAFF_ROLES}
    return {"partnerKey": partner, "staffToken": staff, "networkKey": network}


def _invalid_answer(client, path: str = PARTNER_GET, method: str = "GET"):
    """The answer to a well-formed key that was never issued."""
    return refusal(client.open(path, method=method, headers=bearer("vk_" + "A" * 43)))


# -- malformed and misplaced credentials ----------------------------------------------------


def test_no_credential_is_a_401_challenge(client):
    response = client.get(PARTNER_GET)
    status, media, body, challenge = refusal(response)
    assert (status, media, challenge) == (401, PROBLEM_JSON, WWW_AUTHENTICATE["missing"])
    assert body["type"] == "/problems/unauthorized"
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Basic {key}",  # another scheme, with a valid key
        "Token {key}",
        "{key}",  # no scheme
        "Bearer",  # no token
        "Bearer ",
        "Bearer {key}x",  # one character too many
        "Bearer {short}",  # truncated
        "Bearer garbage",
        "Bearer {key} {key}",  # two tokens
        "Bearer {key},Bearer {key}",
        "Bearer vk_ {key}",
        "Bearer " + "vk_" + "A" * 5000,  # a huge token: refused like any other
    ],
)
def test_a_malformed_authorization_header_is_refused(client, partner, header):
    value = header.format(key=partner["secret"], short=partner["secret"][:-1])
    status, media, _, challenge = refusal(client.get(PARTNER_GET, headers={"Authorization": value}))
    assert (status, media) == (401, PROBLEM_JSON)
    assert challenge in WWW_AUTHENTICATE.values()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer {key}",
        "bearer {key}",  # the scheme is case-insensitive (RFC 9110 11.1)
        "BEARER {key}",
        "Bearer  {key}",  # 1*SP between scheme and token (RFC 6750 2.1)
        "Bearer {key}   ",  # trailing white space is not part of a field value
    ],
)
def test_the_bearer_scheme_as_the_rfcs_allow_it_authenticates(client, partner, header):
    value = header.format(key=partner["secret"])
    assert client.get(PARTNER_GET, headers={"Authorization": value}).status_code == 200


def test_every_operation_refuses_misplaced_credentials(app, client, callers):
    """Each secured operation of the document: without a credential, or with a valid one in
    the query string (api_key, access_token, key, token), in a form body (RFC 6750 2.2), in a
    cookie or another header, the answer is the same 401."""
    checked = 0
    for method, path, scheme, needs in secured_operations(client):
        secret = credential(callers, scheme, needs)
        plain = client.open(path, method=method)
        assert refusal(plain)[0] == 401, (method, path)
        assert refusal(plain)[3] == WWW_AUTHENTICATE["missing"], (method, path)
        query = "&".join(f"{n}={secret}" for n in ("api_key", "access_token", "key", "token"))
        misplaced = [
            client.open(f"{path}?{query}", method=method),
            client.open(path, method=method, headers={"X-Api-Key": secret}),
            client.open(path, method=method, headers={"Cookie": f"access_token={secret}"}),
        ]
        for response in misplaced:
            assert refusal(response) == refusal(plain), (method, path)
        # A form body is refused as any form body is (415 for a JSON operation, before the
        # credential is looked at), whatever token it carries.
        form = client.open(path, method=method, data={"access_token": secret})
        other_form = client.open(path, method=method, data={"comment": "x" * len(secret)})
        assert refusal(form) == refusal(other_form), (method, path)
        assert refusal(form)[0] in (401, 415), (method, path)
        checked += 1
    assert checked >= 40  # the document's secured operations, not an empty loop


def secured_operations(client):
    """(method, path with made-up ids, scheme, roles or scopes) of every secured operation."""
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            (requirement,) = operation["security"]
            ((scheme, needs),) = requirement.items()
            concrete = re.sub(r"\{adapter\}", "airbnb", path)
            concrete = re.sub(r"\{[a-z_]+\}", "x_missing0000", concrete)
            yield method.upper(), concrete, scheme, needs


def credential(callers, scheme: str, needs: list[str]) -> str:
    if scheme == "staffToken":
        return str(callers["staffToken"][needs[0]]["secret"])
    if scheme == "networkKey":
        return str(callers["networkKey"]["api_key"])
    return str(callers["partnerKey"]["secret"])


# -- revoked, rotated, disabled: every operation of the caller's kind stops at once -----------


def test_a_revoked_partner_key_stops_everywhere_and_looks_never_issued(app, client, callers):
    partner = callers["partnerKey"]
    assert client.get(PARTNER_GET, headers=partner.headers).status_code == 200
    run(app, "partner", "revoke", partner["id"])
    _stops_on_every_operation(client, partner["secret"])


def test_a_rotated_partner_key_stops_at_once_and_the_new_one_works(app, client, partner):
    rotated = run(app, "partner", "rotate-key", partner["id"])
    assert refusal(client.get(PARTNER_GET, headers=partner.headers)) == _invalid_answer(client)
    assert client.get(PARTNER_GET, headers=bearer(rotated["api_key"])).status_code == 200
    again = run(app, "partner", "rotate-key", partner["id"])
    assert refusal(client.get(PARTNER_GET, headers=bearer(rotated["api_key"])))[0] == 401
    assert client.get(PARTNER_GET, headers=bearer(again["api_key"])).status_code == 200


def test_a_revoked_network_key_stops_and_looks_never_issued(app, client, callers):
    network = callers["networkKey"]
    url = "/v1/integrations/shelter_network/outcomes"
    body = {"referral_id": "ref_missing0000", "outcome": "accepted"}
    assert client.post(url, json=body, headers=network.headers).status_code == 404
    run(app, "shelter-network", "revoke", network["id"])
    _stops_on_every_operation(client, network["api_key"])
    never = client.post(url, json=body, headers=bearer("vn_" + "A" * 43))
    assert refusal(client.post(url, json=body, headers=network.headers)) == refusal(never)


def test_a_disabled_staff_token_stops_at_once(app, client, callers):
    admin = callers["staffToken"]["admin"]
    assert client.get("/v1/shelters", headers=admin.headers).status_code == 200
    run(app, "operator", "disable", admin["id"])
    _stops_on_every_operation(client, admin["secret"])


def test_a_rotated_staff_token_stops_at_once_and_the_new_one_works(app, client, callers):
    admin = callers["staffToken"]["admin"]
    rotated = run(app, "operator", "rotate-token", admin["id"])
    _stops_on_every_operation(client, admin["secret"])
    assert client.get("/v1/shelters", headers=bearer(rotated["token"])).status_code == 200


def _stops_on_every_operation(client, secret: str) -> None:
    """`secret` is refused by every secured operation as a key never issued would be."""
    for method, path, _, _ in secured_operations(client):
        dead = client.open(path, method=method, headers=bearer(secret))
        never = client.open(path, method=method, headers=bearer(secret[:3] + "A" * 43))
        assert refusal(dead)[0] == 401, (method, path, dead.get_json())
        assert refusal(dead) == refusal(never), (method, path)
        assert refusal(dead)[3] == WWW_AUTHENTICATE["invalid"]


def test_refusals_do_not_tell_which_kind_of_credential_exists(client, callers):
    """A made-up key of each kind and a string of no kind get the same answer everywhere."""
    for method, path, _, _ in secured_operations(client):
        answers = {
            json.dumps(refusal(client.open(path, method=method, headers=bearer(fake))))
            for fake in ("vk_" + "A" * 43, "vo_" + "A" * 43, "vn_" + "A" * 43, "A" * 46)
        }
        assert len(answers) == 1, (method, path, answers)


# -- the console ----------------------------------------------------------------------------


@pytest.fixture
def console_login(app, db, monkeypatch):
    """Log a staff account in to the console (Argon2 with small costs, as in tests/console)."""
    from argon2 import PasswordHasher

    from conftest import SEEDER

    light = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr("vigie.credentials._hasher", lambda: light)

    def login(actor) -> Console:
        with db.unit() as session:
            account = session.get(Operator, actor["pk"])
            operators.set_password(session=session, who=SEEDER, operator=account, password=PASSWORD)
            actor["name"] = account.name
        console = Console(app.test_client(), actor)
        landed = console.follow(console.login(actor["name"]))
        assert landed.status_code == 200
        return console

    return login


def test_disabling_a_staff_account_ends_its_console_session_at_once(
    app, client, make_staff, console_login
):
    staff = make_staff("operator", "Camille")
    console = console_login(staff)
    assert console.get("/console/queue").status_code == 200
    run(app, "operator", "disable", staff["id"])
    page = console.get("/console/queue")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/console/?next=")
    assert console.post("/console/reports/rep_missing0000/claim").status_code == 302
    rows = console.get("/console/queue/rows")  # the page's own refresh: 401, not a page
    assert rows.status_code == 401
    # Logging in again is refused exactly as a wrong password is, and opens no session.
    again = Console(app.test_client())
    refused = again.login("Camille")
    wrong = Console(app.test_client()).login("Personne", PASSWORD)  # no such account
    assert refused.status_code == wrong.status_code == 200
    assert LOGIN_FAILED in refused.get_data(as_text=True)
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    assert again.get("/console/queue").status_code == 302


def test_a_revoked_partners_embedded_form_is_gone_like_one_never_made(app, client):
    """The form hosts fill in needs no key: the partner's slug is its door, closed on revoke."""
    made = run(app, "partner", "create", "--name", "Gîtes du Sud")
    assert client.get(f"/embed/{made['slug']}/report").status_code == 200
    run(app, "partner", "revoke", made["id"])
    gone = client.get(f"/embed/{made['slug']}/report")
    never = client.get("/embed/personne-jamais-cree/report")
    assert gone.status_code == never.status_code == 404
    assert gone.get_data(as_text=True).replace(made["slug"], "") == never.get_data(
        as_text=True
    ).replace("personne-jamais-cree", "")


def test_content_answered_from_memory_still_needs_a_live_key(app, client, partner, make_partner):
    """Content reads already answered are served from memory before any view: the key is
    checked there too (revoked: 401; without content:read: 403), with the view's answers."""
    from vigie.content import importing

    importing.load_seed(app.extensions["vigie"])
    paths = ["/v1/content", "/v1/content/feed.json", "/v1/content/feed.atom"]
    item = client.get("/v1/content", headers=partner.headers).get_json()[0]["id"]
    paths.append(f"/v1/content/{item}")
    for path in paths:  # twice: the second is answered from memory
        assert client.get(path, headers=partner.headers).status_code == 200
        assert client.get(path, headers=partner.headers).status_code == 200
    writer = make_partner("Sans contenu", scopes=("reports:write",))
    run(app, "partner", "revoke", partner["id"])
    for path in paths:
        assert refusal(client.get(path, headers=partner.headers)) == _invalid_answer(
            client, path
        ), path
        assert client.get(path, headers=writer.headers).status_code == 403, path


def test_the_console_never_takes_a_bearer_token(app, client, callers):
    """The console knows only its own session (a password login): a staff token, valid or
    rotated away, opens no console page and does no console action."""
    admin = callers["staffToken"]["admin"]
    rotated = run(app, "operator", "rotate-token", admin["id"])
    for token in (admin["secret"], rotated["token"]):
        page = client.get("/console/accounts", headers=bearer(token))
        assert page.status_code == 302
        assert page.headers["Location"].startswith("/console/?next=")
        action = client.post(f"/console/accounts/{admin['id']}/disable", headers=bearer(token))
        assert action.status_code == 400  # no session, so no CSRF token: nothing done
    assert client.get("/v1/shelters", headers=bearer(rotated["token"])).status_code == 200

"""Schemathesis against the shipped topology: nginx (config/nginx/vigie.conf) over HTTPS in
front of a real `vigie serve`, as each kind of caller (a partner, a shelter network, and each
staff role). No 5xx, and every status, content type and body is one the document states.

Unlike tests/test_api_fuzz.py (in process, one fitting credential per operation), every
caller calls every operation: what a caller may not do must also be answered as documented
(401/403 as problem+json), and what nginx answers itself (400, 413, 414...) must be documented
too. The OpenAPI document is the one the live server serves. Rate limits are off on this
server (VIGIE_RATELIMIT_ENABLED=false): they have their own tests, and one caller here sends
a few hundred requests in seconds.
"""

from __future__ import annotations

import json
import re
import traceback
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.failures import FailureGroup

from conftest import DATA_KEY, SECRET_KEY
from content_payloads import item_body
from fuzz_support import CHECKS, cases
from live import LiveServer, vigie_server
from payloads import stay_report
from topology import Proxy, nginx_in_front, nginx_path
from triage_support import SHELTER_BODY

pytestmark = pytest.mark.slow
METHODS = ("get", "put", "post", "patch", "delete")
STAFF_ROLES = ("operator", "supervisor", "editor", "admin")
CALLERS = ("partner", "network", *STAFF_ROLES)
# Examples per operation: more where the caller's credential is the documented kind (its
# requests reach the handlers), a few elsewhere (they stop at authentication).
REACHING_EXAMPLES = 8
OTHER_EXAMPLES = 2
SCHEME_OF = {"partner": "partnerKey", "network": "networkKey"}
# Every operation documents a `default` error response, so schemathesis' status check accepts
# any status; `status_listed` asks that the status be listed by number.
OVERSIZE = 300 * 1024  # above client_max_body_size (256k)
LONG = 9 * 1024  # above large_client_header_buffers (8k): a request line or one header


class Topology:
    """The started topology, its document, the callers' headers and real ids to use."""

    def __init__(self, proxy: Proxy, document: dict[str, Any]) -> None:
        self.proxy = proxy
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)
        self.session = proxy.session()
        self.headers: dict[str, dict[str, str]] = {}
        self.ids: dict[str, list[str]] = {}
        # Per caller: answers past authentication on operations needing its kind of credential.
        self.accepted: Counter[str] = Counter()

    def post(self, caller: str, path: str, body: Any = None) -> dict[str, Any]:
        response = self.session.post(
            self.proxy.url + path, json=body, headers=self.headers[caller], timeout=30
        )
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return dict(response.json())


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _server_env(database_url: str) -> dict[str, str]:
    """Rate limits off; webhooks may name loopback; PostgreSQL on the suite's PG pass."""
    env = {"VIGIE_RATELIMIT_ENABLED": "false", "VIGIE_WEBHOOK_ALLOW_PRIVATE": "true"}
    if database_url.startswith("postgresql"):
        # The suite's database, which earlier tests filled with the suite's keys.
        env |= {"VIGIE_SECRET_KEY": SECRET_KEY, "VIGIE_DATA_KEY": DATA_KEY}
        env["VIGIE_DATABASE_URL"] = database_url
    return env


@pytest.fixture(scope="module")
def topology(tmp_path_factory, database_url) -> Iterator[Topology]:
    if nginx_path() is None:
        pytest.skip("nginx is not installed (.ci/run installs it: there its absence fails)")
    directory = tmp_path_factory.mktemp("fuzz-topology")
    (directory / "server").mkdir()
    with (
        vigie_server(directory / "server", workers=2, env=_server_env(database_url)) as server,
        nginx_in_front(server.url, directory / "nginx") as proxy,
    ):
        served = proxy.session().get(proxy.url + "/openapi.json", timeout=30)
        assert served.status_code == 200, served.text
        world = Topology(proxy, served.json())
        network_id = _callers(world, server)
        _seed(world, network_id)
        yield world
        world.session.close()


def _callers(world: Topology, server: LiveServer) -> str:
    """A partner (every scope), a shelter network and one account per staff role, created
    with the CLI as an administrator would; the network's id."""
    partner = json.loads(server.vigie("partner", "create", "--name", "Fuzz Live", "--json"))
    world.headers["partner"] = _bearer(partner["api_key"])
    intake = "http://127.0.0.1:9/intake"
    network = json.loads(
        server.vigie(
            "shelter-network", "create", "--name", "SIAO Fuzz", "--intake-url", intake, "--json"
        )
    )
    world.headers["network"] = _bearer(network["api_key"])
    for role in STAFF_ROLES:
        account = server.vigie(
            "operator", "create", "--name", f"Fuzz {role}", "--role", role, "--json"
        )
        world.headers[role] = _bearer(json.loads(account)["token"])
    return str(network["id"])


def _seed(world: Topology, network_id: str) -> None:
    """One of each thing an item route names, created through nginx as callers would."""
    reports = [
        world.post("partner", "/v1/reports", stay_report(partner_reference=f"fuzz-live-{i}"))["id"]
        for i in (1, 2)
    ]
    shelter = world.post(
        "admin",
        "/v1/shelters",
        {**SHELTER_BODY, "network": network_id},
    )
    world.post("supervisor", f"/v1/triage/reports/{reports[0]}/claim", {})
    referral = world.post(
        "supervisor",
        f"/v1/triage/reports/{reports[0]}/referrals",
        {"target_type": "emergency_shelter", "shelter_id": shelter["id"]},
    )
    item = world.post("editor", "/v1/admin/content", item_body())
    world.post("editor", f"/v1/admin/content/{item['id']}/publish")
    endpoint = world.post(
        "partner",
        "/v1/webhooks/endpoints",
        {"url": "http://127.0.0.1:9/hook", "events": ["webhook.test"]},
    )
    world.ids = {
        "report_id": reports,
        "referral_id": [referral["id"]],
        "shelter_id": [shelter["id"]],
        "item_id": [item["id"]],
        "endpoint_id": [endpoint["id"]],
    }


def status_listed(ctx: Any, response: Any, case: Any) -> bool | None:
    """The status is listed by number in the operation's responses (not only `default`)."""
    listed = case.operation.definition.raw["responses"]
    status = response.status_code
    assert str(status) in listed, (
        f"{status} is not listed for {case.operation.label} (only `default` covers it)"
    )
    return True


def _send(world: Topology, case: Any) -> Any:
    """The case sent through nginx over HTTPS, and its answer checked."""
    return case.call_and_validate(
        base_url=world.proxy.url,
        session=world.session,
        checks=[*CHECKS, status_listed],
        # Given here: schemathesis' own default (`True`) would override the session's.
        verify=str(world.proxy.cafile),
        timeout=30,
    )


def _reaches(caller: str, operation: dict[str, Any]) -> bool:
    """Whether the caller's credential is of the kind the operation documents."""
    requirements = operation.get("security")
    if not requirements:
        return True
    scheme = SCHEME_OF.get(caller, "staffToken")
    return any(scheme in requirement for requirement in requirements)


def _strategy(world: Topology, caller: str, method: str, path: str) -> Any:
    operation = world.schema[path][method.upper()]
    headers = world.headers[caller]
    real = {name: world.ids[name] for name in re.findall(r"{(\w+)}", path) if name in world.ids}
    return cases(operation, headers, real)


def _fuzz(world: Topology, caller: str, method: str, path: str) -> None:
    reaching = _reaches(caller, world.document["paths"][path][method])
    guarded = reaching and bool(world.document["paths"][path][method].get("security"))

    @settings(
        max_examples=REACHING_EXAMPLES if reaching else OTHER_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is kept
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(world, caller, method, path))
    def check(case: Any) -> None:
        response = _send(world, case)
        if guarded and response.status_code != 401:
            world.accepted[caller] += 1

    check()


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_as_documented_through_nginx(topology, caller):
    operations = _operations(topology.document)
    failures = []
    for method, path in operations:
        try:
            _fuzz(topology, caller, method, path)
        except (Exception, FailureGroup) as error:  # noqa: BLE001 - all failures are reported
            failures.append(f"--- {method.upper()} {path} as {caller}\n{_describe(error)}")
    assert not failures, f"{len(failures)} operation(s) failed:\n" + "\n".join(failures)
    # The credential works through nginx: it was not refused where its kind is expected.
    assert topology.accepted[caller] > 0, f"the {caller}'s credential was refused everywhere"


def _describe(error: BaseException) -> str:
    """The failure, with its request (schemathesis' curl line) cut to a readable length."""
    text = "".join(traceback.format_exception_only(error)).strip()
    for inner in getattr(error, "exceptions", ()):
        text += "\n" + "".join(traceback.format_exception_only(inner)).strip()
    return "\n".join(line[:400] for line in text.splitlines())


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m, p) for p, item in document["paths"].items() for m in item if m in METHODS]


def _refusals(world: Topology, method: str, path: str) -> dict[str, dict[str, Any]]:
    """What nginx refuses itself, for one operation: the Case arguments of each refusal."""
    ids = {name: world.ids.get(name, ["x"])[0] for name in re.findall(r"{(\w+)}", path)}
    base = {"path_parameters": ids, "headers": dict(world.headers["partner"])}
    refusals = {
        "414": base | {"query": {"q": "x" * LONG}},
        "431": base | {"headers": base["headers"] | {"X-Padding": "x" * LONG}},
    }
    if "requestBody" in world.document["paths"][path][method]:
        refusals["413"] = base | {
            "body": {"padding": "x" * OVERSIZE},
            "media_type": "application/json",
        }
    return refusals


def test_nginx_refusals_are_documented_problems(topology):
    """A body, request line or header over nginx's limits, on every operation: nginx answers
    413/414/431 itself, as a problem document the operation's responses describe."""
    failures = []
    answered: Counter[int] = Counter()
    for method, path in _operations(topology.document):
        operation = topology.schema[path][method.upper()]
        for expected, arguments in _refusals(topology, method, path).items():
            case = operation.Case(**arguments)
            try:
                response = _send(topology, case)
                answered[response.status_code] += 1
                assert str(response.status_code) == expected, response.status_code
            except (Exception, FailureGroup) as error:  # noqa: BLE001 - all are reported
                failures.append(f"--- {expected} {method.upper()} {path}\n{_describe(error)}")
    assert not failures, f"{len(failures)} refusal(s) failed:\n" + "\n".join(failures)
    assert answered.keys() == {413, 414, 431}, answered

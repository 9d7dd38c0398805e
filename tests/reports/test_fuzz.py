"""Generated and mutated requests never produce a 500 (hypothesis, a few seconds)."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payloads import flight_report, stay_report

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXPECTED = {201, 400, 409, 413, 415, 422}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "stay", "flight", "FR", "2A", "13003", "2026-11-20", "P1", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated_reports(draw):
    body = copy.deepcopy(draw(st.sampled_from([stay_report(), flight_report()])))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(body))
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(json_values)
        if not isinstance(body, dict):
            break
    return body


def _check(response):
    assert response.status_code in EXPECTED, (response.status_code, response.get_data())
    if response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.get_json()["status"] == response.status_code


@FUZZ
@given(body=mutated_reports())
def test_mutated_reports_never_cause_a_500(client, partner, body):
    _check(
        client.post(
            "/v1/reports",
            data=json.dumps(body),
            content_type="application/json",
            headers=partner.headers,
        )
    )


@FUZZ
@given(body=json_values)
def test_arbitrary_json_never_causes_a_500(client, partner, body):
    _check(client.post("/v1/reports", json=body, headers=partner.headers))
    batch = client.post("/v1/reports/batch", json={"reports": [body]}, headers=partner.headers)
    assert batch.status_code in {200, 422}
    if batch.status_code == 200:
        assert batch.get_json()["results"][0]["status"] in {201, 409, 422}


@FUZZ
@given(
    raw=st.binary(max_size=200),
    key=st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40),
)
def test_arbitrary_bytes_and_keys_never_cause_a_500(client, partner, raw, key):
    headers = {**partner.headers, "Idempotency-Key": key}
    _check(client.post("/v1/reports", data=raw, content_type="application/json", headers=headers))


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["limit", "cursor", "status", "updated_since", "x"]),
        st.text(max_size=30),
        max_size=4,
    )
)
def test_arbitrary_list_queries_never_cause_a_500(client, partner, query):
    response = client.get("/v1/reports", query_string=query, headers=partner.headers)
    assert response.status_code in {200, 400, 422}, response.get_data()

"""The served OpenAPI document: every status of the reports API, with examples."""

from __future__ import annotations

import pytest

OPERATIONS = {
    ("/v1/reports", "post"): {201, 400, 401, 403, 409, 413, 415, 422},
    ("/v1/reports/batch", "post"): {200, 400, 401, 403, 409, 413, 415, 422},
    ("/v1/reports", "get"): {200, 400, 401, 403, 422},
    ("/v1/reports/{report_id}", "get"): {200, 401, 403, 404},
}


def _examples(response):
    (content,) = response["content"].values()
    if "example" in content:
        return [content["example"]]
    return [e["value"] for e in content.get("examples", {}).values()]


@pytest.mark.parametrize(("path", "method"), sorted(OPERATIONS))
def test_every_status_is_documented_with_an_example(client, path, method):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"][path][method]
    documented = {int(code) for code in operation["responses"] if code != "default"}
    assert OPERATIONS[(path, method)] <= documented
    for code in OPERATIONS[(path, method)]:
        response = operation["responses"][str(code)]
        examples = _examples(response)
        assert examples, f"{method.upper()} {path} {code} has no example"
        if code >= 400:
            assert "application/problem+json" in response["content"]
            assert all(e["status"] == code for e in examples)
    if method == "post":
        assert [p.get("name", p.get("$ref")) for p in operation["parameters"]] == [
            "Idempotency-Key",
            "#/components/parameters/RequestId",
        ]


def test_documented_problem_examples_match_real_answers(client, partner):
    spec = client.get("/openapi.json").get_json()
    post = spec["paths"]["/v1/reports"]["post"]["responses"]
    real = {
        400: client.post(
            "/v1/reports", data="{bad", content_type="application/json", headers=partner.headers
        ),
        413: client.post(
            "/v1/reports",
            data="x" * 300_000,
            content_type="application/json",
            headers=partner.headers,
        ),
        415: client.post(
            "/v1/reports", data="x", content_type="text/plain", headers=partner.headers
        ),
    }
    for code, response in real.items():
        (example,) = _examples(post[str(code)])
        body = response.get_json()
        assert (body["type"], body["title"], body["status"]) == (
            example["type"],
            example["title"],
            example["status"],
        )


def test_query_field_errors_match_the_documented_problem_schema(client, partner):
    # Found by tests/test_api_fuzz.py: errors in the query carry "in", which the
    # documented FieldError (closed to other members) did not allow.
    spec = client.get("/openapi.json").get_json()
    field_error = spec["components"]["schemas"]["FieldError"]
    answer = client.get("/v1/reports?cursor=nope", headers=partner.headers).get_json()
    (entry,) = answer["errors"]
    assert entry["in"] == "query"
    assert set(entry) <= set(field_error["properties"])
    # RFC 9457 extension members (such as `allowed` on a 409) are part of a problem.
    assert spec["components"]["schemas"]["Problem"]["additionalProperties"] is True

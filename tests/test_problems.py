"""Problem documents explain themselves: every `type` is a page, every error is problem+json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from payloads import stay_report
from vigie.errors import MAX_FIELD_ERRORS, Problem
from vigie.problems import catalogue

ROOT = Path(__file__).resolve().parents[1]
PROBLEM_JSON = "application/problem+json"
TYPE = re.compile(r"/problems/([a-z0-9-]+)")
# The types an answer can carry without a domain raising them: routing, bodies, the server.
HTTP_LEVEL = {
    "not-found",
    "method-not-allowed",
    "payload-too-large",
    "uri-too-long",
    "header-fields-too-large",
    "json-too-deep",
    "malformed-body",
    "unsupported-media-type",
    "http-error",
    "internal-error",
}


def test_every_problem_type_has_its_own_page(client):
    slugs = catalogue()
    assert set(slugs) >= HTTP_LEVEL
    for slug, problem in slugs.items():
        own = vars(problem)
        assert {"summary", "meaning", "fix"} <= set(own), f"{problem.__name__} explains nothing"
        response = client.get(f"/problems/{slug}")
        assert response.status_code == 200, slug
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        for text in (problem.summary, problem.meaning, problem.fix):
            assert str(escape(text)) in page, (slug, text)
        assert f"/problems/{slug}" in page


def test_pages_are_self_contained_and_safe_to_frame_nowhere(client):
    response = client.get("/problems/validation-error")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert "<link" not in page
    assert "style" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_the_index_links_every_page(client):
    response = client.get("/problems/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    linked = set(re.findall(r'href="/problems/([a-z0-9-]+)"', page))
    assert linked == set(catalogue())


def test_an_unknown_problem_name_is_a_404_problem(client):
    response = client.get("/problems/no-such-problem")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_JSON
    assert response.get_json()["type"] == "/problems/not-found"


def test_every_documented_type_resolves(client):
    """The OpenAPI examples and the guides only name types that have a page."""
    texts = [client.get("/openapi.json").get_data(as_text=True)]
    texts += [path.read_text("utf-8") for path in (ROOT / "docs").glob("*.md")]
    texts.append((ROOT / "README.md").read_text("utf-8"))
    named = {slug for text in texts for slug in TYPE.findall(text)}
    assert named, "no problem type found in the documents"
    assert named <= set(catalogue()), named - set(catalogue())


def test_problem_types_are_absolute_paths():
    for slug, problem in catalogue().items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), problem
        assert issubclass(problem, Problem)


def test_an_unknown_route_is_a_short_specific_404(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_JSON
    problem = response.get_json()
    assert problem["type"] == "/problems/not-found"
    assert problem["status"] == 404
    assert "openapi.json" in problem["detail"]
    assert len(problem["detail"]) < 100
    assert "manually" not in problem["detail"]  # not Werkzeug's sentence


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/v1/reports", "GET, HEAD, OPTIONS, POST"),
        ("post", "/healthz", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client, partner, method, path, allowed):
    response = getattr(client, method)(path, headers=partner.headers)
    assert response.status_code == 405
    assert response.mimetype == PROBLEM_JSON
    assert response.headers["Allow"] == allowed
    problem = response.get_json()
    assert problem["type"] == "/problems/method-not-allowed"
    assert problem["detail"] == f"{method.upper()} is not allowed on this path; use {allowed}."


def test_no_answer_lists_more_than_50_field_errors(client, partner):
    """10,000 invalid items: the first 50 are named, all are counted, the answer stays small."""
    body = json.dumps(stay_report(indicators=["not_a_code"] * 10_000))
    response = client.post(
        "/v1/reports",
        data=body,
        headers={**partner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert len(problem["errors"]) == MAX_FIELD_ERRORS == 50
    assert problem["error_count"] == 10_000
    assert problem["errors"][0]["pointer"] == "#/indicators/0"
    assert len(response.get_data()) < min(len(body), 64 * 1024)
    assert client.get("/v1/reports", headers=partner.headers).get_json() == []


def test_many_unknown_fields_are_counted_not_all_listed(client, partner):
    body = {**stay_report(), **{f"field_{i}": 1 for i in range(5_000)}}
    response = client.post("/v1/reports/batch", json={"reports": [body]}, headers=partner.headers)
    assert response.status_code in (200, 422)
    text = response.get_data()
    assert len(text) < 16 * 1024
    problems = [response.get_json()]
    if response.status_code == 200:
        problems = [result["problem"] for result in response.get_json()["results"]]
    assert all(len(p["errors"]) <= MAX_FIELD_ERRORS for p in problems)
    assert any(p.get("error_count", 0) >= 5_000 for p in problems)


def test_a_few_errors_carry_no_count(client, partner):
    response = client.post(
        "/v1/reports", json=stay_report(indicators=["not_a_code"]), headers=partner.headers
    )
    assert response.status_code == 422
    assert "error_count" not in response.get_json()


def test_the_partner_guide_states_each_types_status():
    rows = re.findall(
        r"^\| (\d{3}) \| `/problems/([a-z0-9-]+)` \|",
        (ROOT / "docs" / "partners.md").read_text("utf-8"),
        re.M,
    )
    assert len(rows) >= 10
    types = catalogue()
    for status, slug in rows:
        assert types[slug].status == int(status), slug

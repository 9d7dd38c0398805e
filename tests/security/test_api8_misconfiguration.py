"""OWASP API8:2023 Security Misconfiguration: the headers every answer carries, so that an
API answer can never be run, framed, sniffed or kept by a shared cache it was not meant for.
(HSTS and the Server header are set by the shipped nginx: tests/deploy/test_nginx.py.)"""

from __future__ import annotations

import pytest

from payloads import stay_report

API_POLICY = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/v1/reports", 200),
        ("GET", "/v1/reports/rep_missing", 404),
        ("POST", "/v1/reports", 422),
        ("GET", "/v1/content", 200),
    ],
)
def test_api_answers_forbid_scripts_and_framing(client, partner, method, path, status):
    response = client.open(
        path, method=method, json={} if method == "POST" else None, headers=partner.headers
    )
    assert response.status_code == status
    assert response.headers["Content-Security-Policy"] == API_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unauthenticated_answer_carries_the_same_headers(client):
    response = client.get("/v1/reports")
    assert response.status_code == 401
    assert response.headers["Content-Security-Policy"] == API_POLICY
    assert response.headers["Cache-Control"] == "no-store"


def test_sensitive_answers_are_never_stored(client, partner, post_report, make_staff):
    report_id = post_report(partner).get_json()["id"]
    operator = make_staff("operator")
    for response in (
        client.get(f"/v1/reports/{report_id}", headers=partner.headers),
        client.get(f"/v1/triage/reports/{report_id}", headers=operator.headers),
    ):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


def test_content_kept_by_a_shared_cache_is_kept_per_key(client, partner):
    response = client.get("/v1/content", headers=partner.headers)
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert "Authorization" in [v.strip() for v in response.headers["Vary"].split(",")]


def test_the_console_keeps_its_own_stricter_policy(client):
    response = client.get("/console/")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] != API_POLICY
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_cors_is_closed(client, partner):
    """No answer lets a page of another origin read it: no CORS headers, preflights refused."""
    origin = {"Origin": "https://evil.example"}
    read = client.get("/v1/reports", headers={**partner.headers, **origin})
    preflight = client.options(
        "/v1/reports",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    for response in (read, preflight):
        assert not [h for h in response.headers if h[0].lower().startswith("access-control-")]


def test_docs_are_off_in_production(make_app):
    production = make_app(env="production", docs_enabled=False)
    client = production.test_client()
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200  # the contract stays public


def test_an_unexpected_error_shows_no_stack_and_no_message(client, partner, monkeypatch):
    def broken(**_: object) -> None:
        raise RuntimeError("secret detail from deep inside: Jeanne 06 12 34 56 78")

    monkeypatch.setattr("vigie.reports.service.create", broken)
    response = client.post("/v1/reports", json=stay_report(), headers=partner.headers)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "Jeanne" not in text
    assert "RuntimeError" not in text

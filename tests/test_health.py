"""Health probes, request ids and the served OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]


def test_healthz_and_readyz_answer_without_credentials(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_readyz_is_503_without_details_when_the_database_fails(app, client, monkeypatch):
    from sqlalchemy.orm import Session

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused to 10.0.0.5"))

    monkeypatch.setattr(Session, "execute", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "10.0.0.5" not in response.get_data(as_text=True)


def test_request_id_is_returned_and_echoed(client):
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) >= 16
    echoed = client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
    assert echoed == "abc-123"
    hostile = client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"]
    assert hostile != "<script>"


def test_committed_openapi_matches_the_running_app(client):
    served = client.get("/openapi.json").get_json()
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text("utf-8"))
    assert served == committed, "run `make openapi` and commit openapi/openapi.json"
    assert served["openapi"].startswith("3.1")


def test_interactive_reference_is_served_offline(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert b"/static/swagger-ui/swagger-ui-bundle.js" in page.data
    asset = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=86400"
    asset.close()


def test_docs_are_off_in_production(make_app):
    app = make_app(env="production", docs_enabled=False)
    assert app.test_client().get("/docs").status_code == 404

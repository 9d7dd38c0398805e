"""Structured JSON logs: a request id on every line, never secrets, report text or contacts."""

from __future__ import annotations

import io
import json
import logging

import pytest

from payloads import stay_report
from vigie.reports import service as reports_service

DESCRIPTION = "Trois mineures enfermees, le gerant Kovacs garde les passeports"
CONTACT = {"name": "Solange Pietrasanta", "phone": "+33 6 44 55 66 77", "email": "s.p@example.org"}
LISTING = "LISTING-SECRET-7731"


@pytest.fixture
def logged(app):
    """What the app's own JSON handler writes, at DEBUG, for the duration of the test."""
    root = logging.getLogger()
    vigie_handler = next(h for h in root.handlers if getattr(h, "_vigie", False))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(vigie_handler.formatter)
    for log_filter in vigie_handler.filters:
        handler.addFilter(log_filter)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _sensitive_body(**overrides):
    body = stay_report(
        description=DESCRIPTION,
        reporter={"role": "host", "contact_consent": True, "contact": CONTACT},
        **overrides,
    )
    body["stay"] = {**body["stay"], "listing_reference": LISTING}
    return body


def _assert_clean(text, *secrets):
    for secret in (DESCRIPTION, LISTING, *CONTACT.values(), *secrets):
        assert secret not in text, secret
    assert "Kovacs" not in text


def test_an_accepted_report_logs_one_json_line_with_the_request_id(client, partner, logged):
    response = client.post("/v1/reports", json=_sensitive_body(), headers=partner.headers)
    assert response.status_code == 201
    lines = _lines(logged)
    request_lines = [line for line in lines if line["message"] == "request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["status"] == 201
    assert line["path"] == "/v1/reports"
    assert line["partner"] == partner["id"]
    _assert_clean(logged.getvalue(), partner["secret"])


def test_rejected_requests_log_no_body_and_no_credential(client, partner, make_staff, logged):
    bad = _sensitive_body(observed_at="2031-01-01T00:00:00+00:00")
    assert client.post("/v1/reports", json=bad, headers=partner.headers).status_code == 422
    wrong_key = "vk_" + "A" * 43
    unauthorized = client.post(
        "/v1/reports", json=bad, headers={"Authorization": f"Bearer {wrong_key}"}
    )
    assert unauthorized.status_code == 401
    staff = make_staff()
    assert client.post("/v1/reports", json=bad, headers=staff.headers).status_code == 403
    cursor = client.get(
        "/v1/reports?cursor=" + LISTING, headers=partner.headers
    )  # query strings are not logged either
    assert cursor.status_code == 400
    text = logged.getvalue()
    assert [line["status"] for line in _lines(logged) if line["message"] == "request"] == [
        422,
        401,
        403,
        400,
    ]
    _assert_clean(text, partner["secret"], wrong_key, staff["secret"])


def test_a_500_logs_the_error_class_and_stack_but_not_the_message(
    client, partner, logged, monkeypatch
):
    def broken(*, data, **_kwargs):
        raise ValueError(f"cannot store {data['description']} for {data['reporter']}")

    monkeypatch.setattr(reports_service, "create", broken)
    response = client.post("/v1/reports", json=_sensitive_body(), headers=partner.headers)
    assert response.status_code == 500
    assert DESCRIPTION not in response.get_data(as_text=True)
    lines = _lines(logged)
    error = next(line for line in lines if line["message"] == "unhandled error")
    assert error["level"] == "ERROR"
    assert error["error"] == ["builtins.ValueError"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert any("broken" in frame for frame in error["stack"])
    _assert_clean(logged.getvalue(), partner["secret"])


def test_a_database_error_does_not_log_sql_parameters(client, partner, logged, monkeypatch):
    from sqlalchemy import text

    original = reports_service.create

    def failing_sql(*, session, data, **kwargs):
        session.execute(text("INSERT INTO no_such_table VALUES (:v)"), {"v": DESCRIPTION})
        return original(session=session, data=data, **kwargs)

    monkeypatch.setattr(reports_service, "create", failing_sql)
    response = client.post("/v1/reports", json=_sensitive_body(), headers=partner.headers)
    assert response.status_code == 500
    error = next(line for line in _lines(logged) if line["message"] == "unhandled error")
    assert error["error"][0].startswith("sqlalchemy.exc.")
    _assert_clean(logged.getvalue(), partner["secret"])


def test_a_failing_worker_job_is_logged_without_its_message(app, caplog):
    from vigie.worker import PeriodicJob, build_scheduler
    from webhook_receiver import FAILING_JOB_TEXT, failing_run, wait_until

    def failed() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == "periodic job failed"]

    job = PeriodicJob(name="test.failing", function=failing_run, seconds=1)
    scheduler = build_scheduler(app.extensions["vigie"], "worker-logs", (job,))
    with caplog.at_level("INFO"):
        scheduler.start()
        wait_until(lambda: bool(failed()), timeout=10, waiting_for="the job's failure")
        scheduler.shutdown(wait=True)
    failures = failed()
    assert failures
    assert failures[0].job == "test.failing"
    assert failures[0].error == ["builtins.ValueError"]
    for record in caplog.records:
        assert record.exc_info is None
        assert "Dupont" not in repr(record.__dict__)
    assert "Dupont" in FAILING_JOB_TEXT

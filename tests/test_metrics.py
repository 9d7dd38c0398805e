"""/metrics for operators: each figure moves when its cause happens, and only with the token."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from live import free_port, vigie_server
from payloads import stay_report
from vigie import clock
from vigie.metrics import REGISTRY
from vigie.webhooks.delivery import Deliverer
from vigie.worker import PeriodicJob, build_scheduler
from webhook_receiver import count_run, failing_run, wait_until

TOKEN = "metrics-test-token-" + "m" * 24
BEARER = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(body: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name{labels}`, 0 when absent (a counter not moved yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def metrics_app(make_app):
    return make_app(metrics_token=TOKEN)


@pytest.fixture
def mclient(app, metrics_app):
    """A client of an app with metrics on (same database as `app`, emptied for each test)."""
    return metrics_app.test_client()


@pytest.fixture
def scrape(mclient):
    def get() -> Samples:
        response = mclient.get("/metrics", headers=BEARER)
        assert response.status_code == 200, response.data
        assert response.content_type.startswith("text/plain; version=")
        return parse(response.get_data(as_text=True))

    return get


def test_metrics_are_off_unless_a_token_is_configured(client):
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
def test_metrics_need_their_own_token(mclient, partner, header):
    headers = {"Authorization": header} if header else {}
    response = mclient.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.json["type"].endswith("/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # a partner's key is not the metrics token either
    assert mclient.get("/metrics", headers=partner.headers).status_code == 401


def test_a_report_received_moves_the_received_counter_and_the_open_gauge(mclient, scrape, partner):
    before = scrape()
    response = mclient.post("/v1/reports", json=stay_report(), headers=partner.headers)
    assert response.status_code == 201, response.json
    after = scrape()
    moved = {
        labels: after[(name, labels)] - value(before, name, **dict(labels))
        for (name, labels) in after
        if name == "vigie_reports_received_total"
    }
    assert [dict(k) for k, v in moved.items() if v] == [
        {"priority": _priority(mclient, partner, response.json["id"]), "channel": "api"}
    ]
    assert sum(moved.values()) == 1
    priority = _priority(mclient, partner, response.json["id"])
    assert value(after, "vigie_reports_open", priority=priority, status="received") == 1
    assert value(before, "vigie_reports_open", priority=priority, status="received") == 0


def test_a_refused_report_is_not_counted(mclient, scrape, partner):
    assert (
        mclient.post("/v1/reports", json=stay_report(), headers=partner.headers).status_code == 201
    )
    before = scrape()
    invalid = mclient.post("/v1/reports", json=stay_report(context="nope"), headers=partner.headers)
    assert invalid.status_code == 422
    duplicate = mclient.post("/v1/reports", json=stay_report(), headers=partner.headers)
    assert duplicate.status_code == 409, duplicate.json
    after = scrape()
    received = [k for k in after if k[0] == "vigie_reports_received_total"]
    assert all(after[k] == before.get(k, 0) for k in received)


def _priority(mclient, partner, report_id: str) -> str:
    return mclient.get(f"/v1/reports/{report_id}", headers=partner.headers).json["priority"]


def test_a_report_past_its_response_time_counts_as_overdue(mclient, scrape, partner):
    report = mclient.post("/v1/reports", json=stay_report(), headers=partner.headers).json
    priority = _priority(mclient, partner, report["id"])
    assert value(scrape(), "vigie_reports_overdue", priority=priority) == 0
    clock.travel(4 * 86400)  # past the longest response time (P4: 72 h)
    overdue = scrape()
    assert value(overdue, "vigie_reports_overdue", priority=priority) == 1
    assert sum(v for (n, _), v in overdue.items() if n == "vigie_reports_overdue") == 1


def test_the_request_histogram_is_labelled_by_route_template_never_by_id(mclient, scrape, partner):
    report = mclient.post("/v1/reports", json=stay_report(), headers=partner.headers).json
    before = scrape()
    for _ in range(3):
        assert (
            mclient.get(f"/v1/reports/{report['id']}", headers=partner.headers).status_code == 200
        )
    assert mclient.get("/v1/reports/rpt_doesnotexist", headers=partner.headers).status_code == 404
    assert mclient.get(f"/no/such/{report['id']}").status_code == 404
    after = scrape()
    name = "vigie_http_request_duration_seconds_count"
    route = "/v1/reports/{report_id}"
    ok = {"route": route, "method": "GET", "status": "200"}
    assert value(after, name, **ok) - value(before, name, **ok) == 3
    missing = {"route": route, "method": "GET", "status": "404"}
    assert value(after, name, **missing) - value(before, name, **missing) == 1
    unmatched = {"route": "(unmatched)", "method": "GET", "status": "404"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1
    assert value(after, "vigie_http_request_duration_seconds_bucket", le="+Inf", **ok) >= 3
    labels = {v for (_, label_set) in after for (_, v) in label_set}
    assert not any(report["id"] in label for label in labels)


def test_a_pending_delivery_shows_in_the_backlog_and_ages(mclient, scrape, partner, metrics_app):
    endpoint = mclient.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["report.received"]},
        headers=partner.headers,
    )
    assert endpoint.status_code == 201, endpoint.json
    empty = scrape()
    assert value(empty, "vigie_webhook_deliveries_pending") == 0
    assert value(empty, "vigie_webhook_oldest_pending_delivery_age_seconds") == 0
    assert (
        mclient.post("/v1/reports", json=stay_report(), headers=partner.headers).status_code == 201
    )
    assert Deliverer(metrics_app.extensions["vigie"]).fan_out() == 1  # a delivery row, not sent
    clock.travel(600)
    pending = scrape()
    assert value(pending, "vigie_webhook_deliveries_pending") == 1
    assert value(pending, "vigie_webhook_deliveries_due") == 1
    assert value(pending, "vigie_webhook_oldest_pending_delivery_age_seconds") >= 600
    assert value(pending, "vigie_webhook_delivery_lag_seconds") >= 600


def test_periodic_job_runs_and_failures_are_counted(app, scrape):
    jobs = (
        PeriodicJob(name="test.metrics-count", function=count_run, seconds=1),
        PeriodicJob(name="test.metrics-failing", function=failing_run, seconds=1),
    )
    before = scrape()
    scheduler = build_scheduler(app.extensions["vigie"], "worker-metrics", jobs)

    def moved(name: str, job: str) -> float:
        return value(scrape(), name, job=job) - value(before, name, job=job)

    scheduler.start()
    try:
        wait_until(
            lambda: (
                moved("vigie_periodic_job_failures_total", "test.metrics-failing") >= 1
                and moved("vigie_periodic_job_runs_total", "test.metrics-count") >= 1
            ),
            timeout=15,
            waiting_for="a run of each job",
        )
    finally:
        scheduler.shutdown(wait=True)
    assert moved("vigie_periodic_job_runs_total", "test.metrics-failing") >= 1
    assert moved("vigie_periodic_job_failures_total", "test.metrics-count") == 0


def test_database_errors_are_counted_by_class(db, scrape):
    before = scrape()
    with pytest.raises(SQLAlchemyError) as raised, db.unit() as session:
        session.execute(text("SELECT no_such_column FROM no_such_table"))
    error_class = type(raised.value).__name__
    after = scrape()
    name = "vigie_database_errors_total"
    assert (
        value(after, name, error_class=error_class) - value(before, name, error_class=error_class)
        == 1
    )
    assert value(after, "vigie_database_up") == 1


# -- real processes ----------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""  # not listening yet


@pytest.mark.slow
def test_the_worker_serves_its_delivery_attempts_by_outcome(
    app, client, partner, receivers, workers
):
    config = app.extensions["vigie.config"]
    good = receivers()
    failing = receivers(behaviour=lambda _id, _n, _all: (503, {}))
    for receiver in (good, failing):
        created = client.post(
            "/v1/webhooks/endpoints",
            json={"url": receiver.url, "events": ["report.received"]},
            headers=partner.headers,
        )
        assert created.status_code == 201, created.json
        receiver.secrets.append(created.json["secret"])
    assert (
        client.post("/v1/reports", json=stay_report(), headers=partner.headers).status_code == 201
    )
    port = free_port()
    workers(config, VIGIE_METRICS_TOKEN=TOKEN, VIGIE_METRICS_WORKER_PORT=str(port))
    url = f"http://127.0.0.1:{port}/metrics"

    def attempts() -> Samples:
        status, body = _get(url, BEARER)
        return parse(body) if status == 200 else {}

    def both_seen() -> bool:
        samples = attempts()
        name = "vigie_webhook_delivery_attempts_total"
        return (
            value(samples, name, outcome="success") == 1
            and value(samples, name, outcome="http_5xx") >= 1
        )

    wait_until(both_seen, timeout=30, waiting_for="a success and a 503 in the worker's metrics")
    assert _get(url)[0] == 401
    assert _get(url, {"Authorization": "Bearer wrong"})[0] == 401
    assert _get(url.replace("/metrics", "/other"), BEARER)[0] == 404


@pytest.mark.slow
def test_gunicorn_workers_figures_are_summed(tmp_path):
    # `vigie serve` makes its own multiprocess directory: in TMPDIR, to find it here
    env = {"VIGIE_METRICS_TOKEN": TOKEN, "TMPDIR": str(tmp_path)}
    requests = 240
    with vigie_server(tmp_path, workers=2, env=env) as server:
        [directory] = tmp_path.glob("vigie-metrics-*")
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: _get(server.url + "/readyz")[0], range(requests)))
        assert statuses == [200] * requests
        status, body = _get(server.url + "/metrics", BEARER)
        assert status == 200
        total = value(
            parse(body),
            "vigie_http_request_duration_seconds_count",
            route="/readyz",
            method="GET",
            status="200",
        )
        per_process = [_served(path, "/readyz") for path in directory.glob("histogram_*.db")]
    assert total == requests
    assert sum(per_process) == requests
    assert len([n for n in per_process if n > 0]) == 2, per_process  # both workers served some
    assert not directory.exists()  # removed when gunicorn exits


def _served(path: Any, route: str) -> float:
    """How many requests to `route` one process recorded, from its own file."""
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True)
        for sample in metric.samples
        if sample.name.endswith("_count") and sample.labels.get("route") == route
    )


def test_the_deployment_guide_uses_only_metrics_that_exist(scrape):
    """The alert rules and the table of docs/DEPLOYMENT.md name metrics that are served."""
    guide = (Path(__file__).resolve().parents[1] / "docs" / "DEPLOYMENT.md").read_text("utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", guide, flags=re.S | re.M)
    rules = [
        rule
        for block in blocks
        for group in yaml.safe_load(block).get("groups", [])
        for rule in group["rules"]
    ]
    assert {"VigieP1ReportOverdue", "VigieDeliveryBacklogGrowing", "VigieDatabaseFailing"} <= {
        rule["alert"] for rule in rules
    }
    served = {name for name, _ in scrape()}
    families = served | {
        metric.name for metric in REGISTRY.collect()
    }  # counters not moved yet have no sample
    suffixes = ("_total", "_count", "_bucket", "_sum")
    for name in set(re.findall(r"\bvigie_[a-z_]+", guide)):
        base = next((name.removesuffix(s) for s in suffixes if name.endswith(s)), name)
        assert name in families or base in families, name

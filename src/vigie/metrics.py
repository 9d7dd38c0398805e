"""Prometheus figures for whoever runs the service (docs/DEPLOYMENT.md, "Metrics and alerts").

The API serves `/metrics` (a plain Flask blueprint: not a partner operation, so not in the
OpenAPI document) and the worker serves its own small endpoint; both answer only to
`Authorization: Bearer <metrics_token>` and neither exists unless that token is set.

Nothing in the domains knows about metrics: reports received and delivery attempts are
observed through SQLAlchemy session events and counted when their transaction commits,
database errors through the engines' `handle_error` event, and the state of the queues
(open and overdue reports, the delivery backlog) is read from the database at scrape time
by one grouped query per figure. Under gunicorn, prometheus_client's multiprocess mode sums
the figures of every API worker process (`server.py` prepares its directory).
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session

from vigie import clock, errors
from vigie.config import Config
from vigie.db import Database
from vigie.reports.models import OPEN_PREDICATE, Report
from vigie.reports.priority import PRIORITIES
from vigie.triage.models import OPEN_STATUSES
from vigie.webhooks.models import WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

ROUTE = "/metrics"  # for operators, not partners: deliberately absent from the OpenAPI document
UNMATCHED = "(unmatched)"  # the route label of requests that matched no URL rule (404, 405)
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REGISTRY = CollectorRegistry(auto_describe=True)  # this process's own figures

HTTP_REQUESTS = Histogram(
    "vigie_http_request_duration_seconds",
    "API requests by route template, method and status: their duration (the _count is requests).",
    ("route", "method", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
REPORTS_RECEIVED = Counter(
    "vigie_reports_received",
    "Reports stored (committed), by priority and channel.",
    ("priority", "channel"),
    registry=REGISTRY,
)
DELIVERY_ATTEMPTS = Counter(
    "vigie_webhook_delivery_attempts",
    "Webhook sends recorded, by outcome: success, http_4xx, http_5xx, no_answer, rejected.",
    ("outcome",),
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "vigie_periodic_job_runs", "Periodic job runs (failed ones included).", ("job",),
    registry=REGISTRY,
)  # fmt: skip
JOB_FAILURES = Counter(
    "vigie_periodic_job_failures", "Periodic job runs that raised.", ("job",), registry=REGISTRY
)
DATABASE_ERRORS = Counter(
    "vigie_database_errors",
    "Errors raised by the database driver, by SQLAlchemy error class.",
    ("error_class",),
    registry=REGISTRY,
)

_PENDING = "vigie.metrics.pending"  # session.info key: counts waiting for the commit
_installed = threading.Lock()
_events_on = False


# -- what happens: counted where it happens ------------------------------------------------


def job_ran(name: str, *, failed: bool = False) -> None:
    """A periodic job ran in this process (worker.py calls it)."""
    JOB_RUNS.labels(name).inc()
    if failed:
        JOB_FAILURES.labels(name).inc()


def attempt_outcome(status_code: int | None, error: str | None) -> str:
    """A bounded label for one recorded attempt (the error text itself is not a label)."""
    if error is None:
        return "success"
    if status_code is None:
        return "no_answer"
    if 200 <= status_code < 300:
        return "rejected"  # answered 2xx, read as a failure by the network's forwarder
    return f"http_{status_code // 100}xx"


def _pending(session: Session) -> list[tuple[Counter, tuple[str, ...]]]:
    return session.info.setdefault(_PENDING, [])  # type: ignore[no-any-return]


def _after_flush(session: Session, _context: Any) -> None:
    for obj in session.new:
        if isinstance(obj, Report):
            _pending(session).append((REPORTS_RECEIVED, (obj.priority, obj.channel)))


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if not state.is_insert or getattr(statement, "table", None) is not WebhookAttempt.__table__:
        return
    given: Any = state.parameters  # one row's parameters, or a list of them (executemany)
    rows: Sequence[Mapping[str, Any]] = given if isinstance(given, list) else [given or {}]
    pending = _pending(state.session)
    for row in rows:
        outcome = attempt_outcome(row.get("status_code"), row.get("error"))
        pending.append((DELIVERY_ATTEMPTS, (outcome,)))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    for counter, labels in session.info.pop(_PENDING, ()):
        counter.labels(*labels).inc()


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback keeps the outer rows
        session.info.pop(_PENDING, None)


def _database_error(context: Any) -> None:
    error = context.sqlalchemy_exception or context.original_exception
    DATABASE_ERRORS.labels(type(error).__name__).inc()


def install_events() -> None:
    """Observe commits and database errors in this process (once, whatever the caller)."""
    global _events_on
    with _installed:
        if _events_on:
            return
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        event.listen(Engine, "handle_error", _database_error)
        _events_on = True


# -- the state of the queues: read at scrape time -----------------------------------------


class QueueFigures(Collector):
    """Open and overdue reports, the delivery backlog: one grouped query each, per scrape."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "vigie_database_up", "1 when the scrape's queries answered, 0 when they failed."
        )
        try:
            families = self._families()
        except SQLAlchemyError as exc:
            log.warning("metrics: database queries failed", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> list[GaugeMetricFamily]:
        now = clock.now()
        with self.db.lookup() as conn:
            open_rows = conn.execute(
                select(Report.priority, Report.status, func.count())
                .where(text(OPEN_PREDICATE))
                .group_by(Report.priority, Report.status)
            ).all()
            overdue_rows = conn.execute(
                select(Report.priority, func.count())
                .where(text(OPEN_PREDICATE), Report.status == "received", Report.due_at < now)
                .group_by(Report.priority)
            ).all()
            backlog = conn.execute(
                select(
                    func.count(),
                    func.min(WebhookDelivery.created_at),
                    func.min(WebhookDelivery.next_attempt_at),
                ).where(WebhookDelivery.status == "pending")
            ).one()
            due = conn.execute(
                select(func.count()).where(
                    WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now
                )
            ).scalar_one()
        return [
            _open_reports(open_rows),
            _overdue_reports(overdue_rows),
            *_backlog(backlog, due, now),
        ]


def _open_reports(rows: Iterable[Any]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "vigie_reports_open", "Reports not closed, by priority and status.",
        labels=("priority", "status"),
    )  # fmt: skip
    counts = {(p, s): 0 for p in PRIORITIES for s in OPEN_STATUSES}
    counts |= {(priority, status): count for priority, status, count in rows}
    for (priority, status), count in sorted(counts.items()):
        family.add_metric([priority, status], count)
    return family


def _overdue_reports(rows: Iterable[Any]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "vigie_reports_overdue",
        "Reports still awaiting their first review past their response time, by priority.",
        labels=("priority",),
    )
    counts = dict.fromkeys(PRIORITIES, 0) | {priority: count for priority, count in rows}
    for priority, count in sorted(counts.items()):
        family.add_metric([priority], count)
    return family


def _backlog(row: Any, due: int, now: Any) -> list[GaugeMetricFamily]:
    pending, oldest, earliest = row
    return [
        GaugeMetricFamily(
            "vigie_webhook_deliveries_pending",
            "Webhook deliveries not yet delivered nor failed (due now or waiting for a retry).",
            value=pending,
        ),
        GaugeMetricFamily(
            "vigie_webhook_deliveries_due",
            "Pending webhook deliveries whose next attempt is due now: the worker's queue.",
            value=due,
        ),
        GaugeMetricFamily(
            "vigie_webhook_oldest_pending_delivery_age_seconds",
            "Age of the oldest pending webhook delivery (0 when none is pending).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        ),
        GaugeMetricFamily(
            "vigie_webhook_delivery_lag_seconds",
            "How long the earliest due delivery has been waiting for the worker (0 when none).",
            value=max((now - earliest).total_seconds(), 0.0) if earliest and due else 0.0,
        ),
    ]


# -- exposition ----------------------------------------------------------------------------


def exposition(queues: CollectorRegistry | None = None) -> bytes:
    """The text format: every process's figures (summed under gunicorn), then the queues."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return body + (generate_latest(queues) if queues is not None else b"")


def authorised(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


class MetricsUnauthorized(errors.Unauthorized):
    def __init__(self) -> None:
        super().__init__(
            "Send the metrics token as Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def route_template(rule: str) -> str:
    """A URL rule as the OpenAPI document writes it: `/v1/reports/{report_id}`."""
    return CONVERTER.sub(r"{\1}", rule)


@functools.lru_cache(maxsize=4096)
def _series(rule: str | None, method: str, status: int) -> Any:
    """The histogram child of one (route, method, status), looked up once per process: the
    hook runs on every request, and `labels()` costs more than the observation itself."""
    return HTTP_REQUESTS.labels(
        route_template(rule) if rule is not None else UNMATCHED,
        method if method in METHODS else "other",
        str(status),
    )


def _observe(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        rule = request.url_rule
        series = _series(
            rule.rule if rule is not None else None, request.method, response.status_code
        )
        series.observe(time.perf_counter() - started)
    return response


def init_app(app: Flask, config: Config) -> None:
    """Serve /metrics and time every request, if `metrics_token` is set; else do nothing."""
    if not config.metrics_token:
        return
    install_events()
    queues = CollectorRegistry(auto_describe=False)
    queues.register(QueueFigures(app.extensions["vigie"].db))
    blueprint = Blueprint("metrics", __name__)

    @blueprint.get(ROUTE)
    def metrics() -> Response:
        if not authorised(request.headers.get("Authorization"), config.metrics_token):
            raise MetricsUnauthorized
        return Response(exposition(queues), mimetype=None, content_type=CONTENT_TYPE_LATEST)

    app.register_blueprint(blueprint)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)


# -- the worker's own endpoint -------------------------------------------------------------


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Scrapes are not worth a log line each."""


def _worker_app(token: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") != ROUTE:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not authorised(environ.get("HTTP_AUTHORIZATION"), token):
            start_response(
                "401 Unauthorized",
                [("Content-Type", errors.PROBLEM_JSON), ("WWW-Authenticate", "Bearer")],
            )
            return [json.dumps(errors.body_for(MetricsUnauthorized())).encode()]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest(REGISTRY)]  # this process only, even beside a multiprocess dir

    return app


@contextmanager
def worker_endpoint(config: Config) -> Iterator[int | None]:
    """The worker's figures on http://metrics_worker_host:metrics_worker_port/metrics while the
    block runs (yields the port; None when off: no token or port 0)."""
    if not config.metrics_token or not config.metrics_worker_port:
        yield None
        return
    install_events()
    server = make_server(
        config.metrics_worker_host,
        config.metrics_worker_port,
        _worker_app(config.metrics_token),
        server_class=_Server,
        handler_class=_Quiet,
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()

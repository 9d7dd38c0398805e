"""The worker process: webhook delivery in every worker, periodic jobs once per period.

`vigie worker` runs `run_forever`; `vigie demo` runs `run` in a thread with a stop Event.
`run` starts the APScheduler scheduler for `PERIODIC_JOBS` and runs the delivery loop
(`vigie.webhooks.delivery.Deliverer`) until stopped. APScheduler lives here only: the API
processes (gunicorn) never import this module. SIGTERM: stop claiming, let in-flight
sends finish, record them, release anything left, stop the scheduler, exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from vigie import clock, metrics, periodic
from vigie.errors import FailureLog, database_unavailable, log_failure
from vigie.idempotency import jobs as idempotency_jobs
from vigie.runtime import Runtime
from vigie.triage import jobs as triage_jobs
from vigie.webhooks.delivery import Deliverer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every `seconds` by one worker at a time.

    `function` takes the Runtime and opens its own units of work; what it returns is ignored.
    """

    name: str
    function: Callable[[Runtime], object]
    seconds: int

    @property
    def target(self) -> str:
        """The function as "module:function", for people reading logs and tests."""
        return f"{self.function.__module__}:{self.function.__qualname__}"


# Each domain adds its periodic work here (claim expiry, escalation, retention, ...).
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("idempotency-purge", idempotency_jobs.purge_expired, 3600),
    PeriodicJob("triage.expire_claims", triage_jobs.expire_claims, 60),
    PeriodicJob("triage.escalate_overdue", triage_jobs.escalate_overdue, 60),
    PeriodicJob("triage.purge_expired", triage_jobs.purge_expired, 3600),
)


def _locked(
    runtime: Runtime, job: PeriodicJob, owner: str, failures: FailureLog
) -> Callable[[], None]:
    def run_job() -> None:
        try:
            ran = periodic.run_once_per_period(
                runtime.db,
                name=job.name,
                period=job.seconds,
                owner=owner,
                job=lambda: job.function(runtime),
            )
            if ran:
                log.info("periodic job ran", extra={"job": job.name})
                metrics.job_ran(job.name)
        except Exception as exc:  # noqa: BLE001 - a job's failure must not stop the worker
            if database_unavailable(exc):  # the next period runs again; one line per interval
                failures.log(log, "periodic job: database unavailable", exc, job=job.name)
            else:
                log_failure(log, "periodic job failed", exc, job=job.name)
            metrics.job_ran(job.name, failed=True)

    return run_job


def build_scheduler(
    runtime: Runtime, owner: str, jobs: tuple[PeriodicJob, ...] | None = None
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    failures = FailureLog(runtime.config.db_error_log_seconds)
    for job in PERIODIC_JOBS if jobs is None else jobs:
        scheduler.add_job(
            _locked(runtime, job, owner, failures),
            "interval",
            seconds=job.seconds,
            id=job.name,
            max_instances=1,
            coalesce=True,
            next_run_time=clock.now(),
        )
    return scheduler


def warn_if_private(runtime: Runtime) -> None:
    if runtime.config.webhook_allow_private:
        log.warning(
            "VIGIE_WEBHOOK_ALLOW_PRIVATE is on: webhooks may reach loopback and private "
            "addresses on any port; development and tests only"
        )


def run(runtime: Runtime, stop: threading.Event) -> None:
    """Run until `stop` is set (the demo runs this in a thread)."""
    warn_if_private(runtime)
    deliverer = Deliverer(runtime)
    scheduler = build_scheduler(runtime, deliverer.owner)
    scheduler.start()
    log.info("worker started", extra={"worker": deliverer.owner})
    try:
        with metrics.worker_endpoint(runtime.config):
            deliverer.run(stop)
    finally:
        scheduler.shutdown(wait=True)
        log.info("worker stopped", extra={"worker": deliverer.owner})


def run_forever(runtime: Runtime) -> None:
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("worker received signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(runtime, stop)

"""The background worker: periodic jobs under APScheduler, stopped cleanly by SIGTERM.

Outbox delivery (webhooks) plugs in here; the API process never runs this.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from vigie.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every `seconds` by one worker at a time.

    `target` is "module:function"; the function takes the Runtime and opens its own units of work.
    """

    name: str
    target: str
    seconds: int


# Each domain adds its periodic work here (claim expiry, escalation, retention, ...).
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("idempotency-purge", "vigie.idempotency.jobs:purge_expired", 3600),
    PeriodicJob("triage.expire_claims", "vigie.triage.jobs:expire_claims", 60),
    PeriodicJob("triage.escalate_overdue", "vigie.triage.jobs:escalate_overdue", 60),
    PeriodicJob("triage.purge_expired", "vigie.triage.jobs:purge_expired", 3600),
)


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    return scheduler


def run(runtime: Runtime, stop: threading.Event) -> None:
    """Run until `stop` is set (the demo runs this in a thread)."""
    scheduler = build_scheduler(runtime)
    scheduler.start()
    log.info("worker started")
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("worker stopped")


def run_forever(runtime: Runtime) -> None:
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("worker received signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(runtime, stop)

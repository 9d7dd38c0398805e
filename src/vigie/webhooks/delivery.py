"""The webhook delivery engine: one loop per worker process, a bounded pool of senders.

Each round (`Deliverer.cycle`): record finished attempts, fan new outbox events out into
deliveries, claim as many due deliveries as there are free sender threads, hand them to a
bounded thread pool. A slow endpoint holds at most `worker_per_endpoint_concurrency`
threads, so it cannot stall the others. On stop: no more claims, in-flight sends finish
(each is bounded by the 15 s total timeout), are recorded, anything left is released.

The database side of each step is `vigie.webhooks.dispatch`; sending is
`vigie.webhooks.outbound`. `vigie.worker` runs `Deliverer.run` next to the scheduler.

An endpoint with a forwarder (a shelter network's intake) goes through the same steps; its
forwarder, found by name in `vigie.integrations`, builds the `data` it is sent and says what
the answer means (success, retry, or a permanent failure that is not retried).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import exists, select

from vigie import clock, integrations
from vigie.errors import FailureLog, database_unavailable, log_failure
from vigie.integrations import ForwardContext, ForwardedReferral, Forwarder, ForwardResult
from vigie.outbox.models import OutboxEvent
from vigie.runtime import Runtime
from vigie.webhooks import dispatch, outbound
from vigie.webhooks.models import WebhookDelivery, WebhookDispatch
from vigie.webhooks.service import Settings

log = logging.getLogger(__name__)

# Outbox events younger than this are looked for at every cycle; older ones (a transaction
# that committed very late) are caught by a wider scan every FULL_SCAN_SECONDS. That scan
# covers the whole outbox once per process, then only what is newer than the previous
# complete scan less LATE_COMMIT_MARGIN (no request transaction lives that long), so its
# cost does not grow with the outbox.
RECENT_WINDOW = timedelta(minutes=15)
FULL_SCAN_SECONDS = 60.0
LATE_COMMIT_MARGIN = timedelta(hours=1)
FAN_OUT_BATCH = 500


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Deliverer:
    """Claims, sends and records webhook deliveries. `cycle()` is one round (tests call it)."""

    def __init__(self, runtime: Runtime, *, owner: str | None = None) -> None:
        self.runtime = runtime
        self.db = runtime.db
        self.owner = owner or worker_id()
        self.settings = Settings.from_config(runtime.config)
        self.threads = runtime.config.worker_delivery_threads
        self.per_endpoint = runtime.config.worker_per_endpoint_concurrency
        self.poll = runtime.config.worker_poll_seconds
        self.grace = runtime.config.worker_shutdown_grace_seconds
        self.client = outbound.Client(self.settings.policy, pool_size=self.threads)
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="vigie-send")
        self.inflight: dict[int, dispatch.Job] = {}
        self.leased_at: dict[int, float] = {}  # monotonic time each in-flight lease was taken
        self.done: queue.SimpleQueue[dispatch.Outcome] = queue.SimpleQueue()
        self.wake = threading.Event()
        self._last_full_scan = 0.0
        self._swept_until: datetime | None = None  # wall clock of the last complete scan
        self._last_fan_out = 0.0
        self._backlog = False
        self.forward_context = ForwardContext(
            public_base_url=runtime.config.public_base_url,
            contact=runtime.config.shelter_network_contact,
        )
        self._forwarders: dict[str, Forwarder | None] = {}
        self._forwarders_lock = threading.Lock()
        self.failures = FailureLog(runtime.config.db_error_log_seconds)
        if self.settings.lease_seconds < outbound.TOTAL_TIMEOUT + 5:
            log.warning(
                "webhook_lease_seconds is shorter than a send may take; "
                "a slow delivery may be sent twice",
                extra={"lease_seconds": self.settings.lease_seconds},
            )

    # -- one round -------------------------------------------------------------

    def cycle(self) -> int:
        """One round: fan out new events, then record finished attempts and claim new
        deliveries in one short write transaction; returns how much work was done."""
        work = self.fan_out()
        outcomes = self._collect()
        free = self.threads - len(self.inflight) + len(outcomes)
        claiming = free > 0 and (bool(outcomes) or self._maybe_due())
        finished = {o.job.delivery_id for o in outcomes}
        stale = [d for d in self._leases_to_renew() if d not in finished]
        if not outcomes and not claiming and not stale:
            return work
        per_endpoint = Counter(
            job.endpoint_id for d, job in self.inflight.items() if d not in finished
        )
        try:
            jobs = self._record_and_claim(outcomes, stale, claiming, free, per_endpoint)
        except Exception:
            for outcome in outcomes:  # recorded by the next round
                self.done.put(outcome)
            raise
        for delivery_id in finished:
            self.inflight.pop(delivery_id, None)
            self.leased_at.pop(delivery_id, None)
        now = time.monotonic()
        for delivery_id in stale:
            self.leased_at[delivery_id] = now
        for job in jobs:
            self.inflight[job.delivery_id] = job
            self.leased_at[job.delivery_id] = now
            future = self.pool.submit(self._send, job)
            future.add_done_callback(self._finished)
        return work + len(outcomes) + len(jobs)

    def _record_and_claim(
        self,
        outcomes: list[dispatch.Outcome],
        stale: list[int],
        claiming: bool,
        free: int,
        per_endpoint: Counter[int],
    ) -> list[dispatch.Job]:
        with self.db.unit(write=True) as session:
            if outcomes:
                dispatch.record(
                    session=session, settings=self.settings, owner=self.owner, outcomes=outcomes
                )
            if stale:
                dispatch.renew(
                    session=session,
                    owner=self.owner,
                    delivery_ids=stale,
                    lease_seconds=self.settings.lease_seconds,
                )
            jobs = (
                dispatch.claim(
                    session=session,
                    crypto=self.runtime.crypto,
                    is_sqlite=self.db.is_sqlite,
                    owner=self.owner,
                    limit=free,
                    lease_seconds=self.settings.lease_seconds,
                    per_endpoint=self.per_endpoint,
                    inflight=per_endpoint,
                    exclude=self.inflight.keys(),
                )
                if claiming
                else []
            )
        return jobs

    def _collect(self) -> list[dispatch.Outcome]:
        outcomes: list[dispatch.Outcome] = []
        while True:
            try:
                outcomes.append(self.done.get_nowait())
            except queue.Empty:
                return outcomes

    def record_finished(self) -> int:
        """Record what finished, without claiming (shutdown)."""
        outcomes = self._collect()
        if outcomes:
            with self.db.unit(write=True) as session:
                dispatch.record(
                    session=session, settings=self.settings, owner=self.owner, outcomes=outcomes
                )
            for outcome in outcomes:
                self.inflight.pop(outcome.job.delivery_id, None)
                self.leased_at.pop(outcome.job.delivery_id, None)
        return len(outcomes)

    def _leases_to_renew(self) -> list[int]:
        """In-flight deliveries past half their lease: renewed so no one else takes them
        while we still hold them (a slow database must not cause duplicates)."""
        limit = time.monotonic() - self.settings.lease_seconds / 2
        return [d for d in self.inflight if self.leased_at.get(d, 0.0) < limit]

    def _maybe_due(self) -> bool:
        """On SQLite, a read first so that an idle worker never takes the write lock."""
        if not self.db.is_sqlite:
            return True
        with self.db.unit(write=False) as session:
            due = session.scalar(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= clock.now(),
                )
                .limit(1)
            )
        return due is not None

    def fan_out(self) -> int:
        """Turn new outbox events into deliveries: at most every poll interval, unless the
        previous round found a full batch (a backlog)."""
        now = time.monotonic()
        if not self._backlog and now - self._last_fan_out < self.poll:
            return 0
        self._last_fan_out = now
        full = now - self._last_full_scan >= FULL_SCAN_SECONDS
        started = clock.now()
        if not full:
            since: datetime | None = started - RECENT_WINDOW
        elif self._swept_until is not None:
            since = self._swept_until - LATE_COMMIT_MARGIN
        else:
            since = None
        pending = select(OutboxEvent.id).where(
            ~exists().where(WebhookDispatch.event_id == OutboxEvent.id)
        )
        if since is not None:
            pending = pending.where(OutboxEvent.created_at >= since)
        with self.db.unit(write=False) as session:
            if session.scalar(pending.limit(1)) is None:
                if full:
                    self._last_full_scan, self._swept_until = now, started
                self._backlog = False
                return 0
        with self.db.unit(write=True) as session:
            handled = dispatch.fan_out(
                session=session, is_sqlite=self.db.is_sqlite, limit=FAN_OUT_BATCH, since=since
            )
        self._backlog = handled >= FAN_OUT_BATCH
        if full and not self._backlog:
            self._last_full_scan, self._swept_until = now, started
        return handled

    def _send(self, job: dispatch.Job) -> dispatch.Outcome:
        now = clock.now()
        if job.forwarder is None:
            body, headers = dispatch.build_message(job, now=now)
            outcome = dispatch.Outcome(
                job=job,
                result=self.client.post(job.url, body=body, headers=headers),
                attempted_at=now,
            )
        else:
            outcome = self._forward(job, job.forwarder, now)
        result = outcome.result
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "webhook attempt",
                extra={
                    "event_id": job.event_public_id,
                    "delivery": job.delivery_id,
                    "status": result.status,
                    "error": outcome.error,
                    "duration_ms": result.duration_ms,
                },
            )
        return outcome

    def _forward(self, job: dispatch.Job, name: str, now: datetime) -> dispatch.Outcome:
        """Send through the endpoint's forwarder: it builds `data` and reads the answer.
        A missing or failing forwarder is a failed attempt, retried like any other."""
        forwarder = self._forwarder(name)
        if forwarder is None:
            return self._not_sent(job, now, "forwarder_missing")
        referral = cast(ForwardedReferral, job.event_data)  # written by vigie.triage.referrals
        try:
            data = forwarder.payload(referral, self.forward_context)
        except Exception as exc:  # noqa: BLE001 - integration code: its bug is a failed attempt
            log_failure(log, "forwarder could not build the payload", exc)
            return self._not_sent(job, now, "forwarder_error")
        body, headers = dispatch.build_message(job, now=now, data=data)
        result = self.client.post(job.url, body=body, headers=headers)
        try:
            verdict: ForwardResult | None = forwarder.classify(result.status, result.error)
        except Exception as exc:  # noqa: BLE001 - integration code: fall back to webhook rules
            log_failure(log, "forwarder could not read the answer", exc)
            verdict = None
        return dispatch.Outcome(job=job, result=result, attempted_at=now, verdict=verdict)

    @staticmethod
    def _not_sent(job: dispatch.Job, now: datetime, error: str) -> dispatch.Outcome:
        return dispatch.Outcome(
            job=job,
            result=outbound.Result(status=None, duration_ms=0, error=error),
            attempted_at=now,
        )

    def _forwarder(self, name: str) -> Forwarder | None:
        """The forwarder registered as `name` (entry points), loaded once per worker."""
        with self._forwarders_lock:
            if name not in self._forwarders:
                self._forwarders[name] = _load_forwarder(name)
            return self._forwarders[name]

    def _finished(self, future: Future[dispatch.Outcome]) -> None:
        error = future.exception()
        if error is None:
            self.done.put(future.result())
        else:  # a bug in our own code: keep the lease; the delivery is retried after it expires
            log_failure(log, "webhook send crashed", error)
        self.wake.set()

    # -- loop ------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                work = self.cycle()
            except Exception as exc:  # noqa: BLE001 - the loop must survive a failed round
                self._failed(exc, "delivery cycle failed; retrying")
                work = 0
                stop.wait(1.0)
            if not work:
                self.wake.wait(self.poll)
                self.wake.clear()
        self.shutdown()

    def shutdown(self) -> None:
        """Stop claiming; finish in-flight sends within the grace period; release the rest."""
        pending = list(self.inflight)
        if pending:
            log.info("finishing in-flight deliveries", extra={"count": len(pending)})
        deadline = time.monotonic() + self.grace
        while self.inflight and time.monotonic() < deadline:
            self.wake.wait(0.05)
            self.wake.clear()
            try:
                self.record_finished()
            except Exception as exc:  # noqa: BLE001 - shutdown must still release the leases
                self._failed(exc, "could not record finished deliveries")
                break
        left = list(self.inflight)
        if left:
            try:
                with self.db.unit(write=True) as session:
                    dispatch.release(session=session, owner=self.owner, delivery_ids=left)
                log.warning("released unfinished deliveries", extra={"count": len(left)})
            except Exception as exc:  # noqa: BLE001 - their leases expire by themselves
                self._failed(exc, "could not release unfinished deliveries")
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def _failed(self, error: Exception, message: str) -> None:
        """A database outage: one short line per failure class per interval; else the stack."""
        if database_unavailable(error):
            self.failures.log(log, f"{message}: database unavailable", error)
        else:
            log_failure(log, message, error)


def _load_forwarder(name: str) -> Forwarder | None:
    try:
        found: Any = integrations.load(name)
    except (KeyError, ImportError, AttributeError, TypeError):  # absent, or not loadable
        found = None
    if not isinstance(found, Forwarder):
        log.error("no forwarder installed under this name", extra={"forwarder": name})
        return None
    return found

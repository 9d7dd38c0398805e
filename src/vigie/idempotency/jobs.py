"""Periodic work: purge Idempotency-Keys past their retention."""

from __future__ import annotations

import logging

from vigie.idempotency import service
from vigie.runtime import Runtime

log = logging.getLogger(__name__)


def purge_expired(runtime: Runtime) -> int:
    with runtime.db.unit() as session:
        purged = service.purge(session=session)
    if purged:
        log.info("purged expired idempotency keys", extra={"count": purged})
    return purged

"""Write outbox events. Callers pass their own session so the event commits with the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vigie import clock
from vigie.ids import new_id
from vigie.outbox.models import OutboxEvent


def emit(
    *,
    session: Session,
    event_type: str,
    data: dict[str, Any],
    partner_id: int | None = None,
    shelter_network_id: int | None = None,
) -> OutboxEvent:
    """Record an event; delivery happens later in the worker, never in the request.

    `shelter_network_id` sends it to that shelter network's intake only."""
    event = OutboxEvent(
        public_id=new_id("evt"),
        type=event_type,
        partner_id=partner_id,
        shelter_network_id=shelter_network_id,
        data=data,
        created_at=clock.now(),
    )
    session.add(event)
    return event

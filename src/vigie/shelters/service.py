"""The shelter directory: who serves where and takes whom, declared capacity, and ranking.

Shelters know nothing of reports: ranking takes the plain facts of a need (`Needs`), and
capacity changes are small functions the referral code calls on a shelter it has locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import clock
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.db import get_or_404
from vigie.errors import Invalid
from vigie.ids import new_id
from vigie.shelters import networks
from vigie.shelters.models import NETWORK_FORWARDER, Shelter

EDITABLE = (
    "name",
    "type",
    "departments",
    "accepts",
    "languages",
    "capacity_total",
    "capacity_available",
    "contact",
    "integration",
    "network",  # the ShelterNetwork (the API names it by its public id)
)


# -- directory ------------------------------------------------------------------------------


def _check_capacity(total: int, available: int) -> None:
    if available > total:
        raise Invalid(
            "capacity_available cannot exceed capacity_total.", field="capacity_available"
        )


def _with_network(session: Session, data: dict[str, Any], shelter: Shelter | None) -> None:
    """Turn `network` (a public id, or None to leave it) into the network itself, keeping
    `integration` in step: a shelter of a network is forwarded by the shelter network
    forwarder, and that forwarder needs a network to send to."""
    if "network" in data:
        public_id = data["network"]
        network = (
            networks.live(session=session, public_id=public_id, field="network")
            if public_id
            else None
        )
        data["network"] = network
        if network is not None:
            if data.get("integration") not in (None, NETWORK_FORWARDER):
                raise Invalid(
                    f"A shelter of a network has the integration {NETWORK_FORWARDER}.",
                    field="integration",
                )
            data["integration"] = NETWORK_FORWARDER
        elif shelter is not None and "integration" not in data:
            # leaving its network, it is no longer forwarded
            data["integration"] = _without_network(shelter.integration)
    network = data.get("network", shelter.network if shelter else None)
    integration = data.get("integration", shelter.integration if shelter else None)
    if integration == NETWORK_FORWARDER and network is None:
        raise Invalid(
            f"The integration {NETWORK_FORWARDER} forwards to a network: name it.", field="network"
        )


def _without_network(integration: str | None) -> str | None:
    return None if integration == NETWORK_FORWARDER else integration


def create(*, session: Session, who: Who, data: dict[str, Any]) -> Shelter:
    _check_capacity(data["capacity_total"], data["capacity_available"])
    _with_network(session, data, None)
    now = clock.now()
    shelter = Shelter(
        public_id=new_id("shl"),
        created_at=now,
        updated_at=now,
        capacity_updated_at=now,
        archived_at=None,
        **{key: data.get(key) for key in EDITABLE},
    )
    session.add(shelter)
    session.flush()
    audit.record(
        session=session,
        who=who,
        action="shelter.created",
        target=shelter.public_id,
        details={"type": shelter.type},
    )
    return shelter


def get(*, session: Session, shelter_id: str, lock: bool = False) -> Shelter:
    return get_or_404(session, Shelter, shelter_id, what="shelter", lock=lock)


def lock_for_capacity(*, session: Session, pk: int) -> Shelter | None:
    """The shelter with this primary key, locked for a capacity change (None if gone)."""
    return session.get(Shelter, pk, with_for_update=True)


def list_(
    *, session: Session, department: str | None, shelter_type: str | None, include_archived: bool
) -> list[Shelter]:
    query = select(Shelter).order_by(Shelter.name, Shelter.id)
    if shelter_type is not None:
        query = query.where(Shelter.type == shelter_type)
    if not include_archived:
        query = query.where(Shelter.archived_at.is_(None))
    shelters = list(session.scalars(query))
    if department is not None:  # a small directory: filtering the JSON list here is enough
        shelters = [s for s in shelters if department in s.departments]
    return shelters


def update(*, session: Session, who: Who, shelter_id: str, data: dict[str, Any]) -> Shelter:
    shelter = get(session=session, shelter_id=shelter_id, lock=True)
    now = clock.now()
    archived = data.pop("archived", None)
    _with_network(session, data, shelter)
    changed = [key for key in EDITABLE if key in data and data[key] != getattr(shelter, key)]
    _check_capacity(
        data.get("capacity_total", shelter.capacity_total),
        data.get("capacity_available", shelter.capacity_available),
    )
    for key in changed:
        setattr(shelter, key, data[key])
    if "capacity_available" in data:  # a declaration, even of the same figure, is fresh news
        shelter.capacity_updated_at = now
    if archived is not None and archived != shelter.archived:
        shelter.archived_at = now if archived else None
        changed.append("archived")
    shelter.updated_at = now
    audit.record(
        session=session,
        who=who,
        action="shelter.updated",
        target=shelter.public_id,
        details={"fields": sorted(set(changed) | ({"capacity_available"} & set(data)))},
    )
    return shelter


# -- capacity (on a shelter the caller has locked) -----------------------------------------


def take_place(shelter: Shelter, now: datetime) -> None:
    """A referral counts one declared place as taken."""
    shelter.capacity_available = max(0, shelter.capacity_available - 1)
    shelter.updated_at = now


def free_place(shelter: Shelter, now: datetime) -> None:
    """The place a declined referral counted as taken is free again."""
    shelter.capacity_available = min(shelter.capacity_total, shelter.capacity_available + 1)
    shelter.updated_at = now


def declare_full(shelter: Shelter, now: datetime) -> None:
    """The shelter said it is full: a fresh declaration of no capacity."""
    shelter.capacity_available = 0
    shelter.capacity_updated_at = now
    shelter.updated_at = now


# -- ranking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """What the people to place need, as plain facts (the caller reads them off its case)."""

    department: str | None
    minors_involved: bool
    persons_count: int


@dataclass(frozen=True)
class Suggestion:
    score: int
    reasons: list[str]
    shelter: Shelter


def _score(shelter: Shelter, needs: Needs) -> tuple[int, list[str]]:
    score, reasons = 0, []
    if needs.department and needs.department in shelter.departments:
        score += 100
        reasons.append("serves_department")
    if needs.minors_involved:
        if "minors" in shelter.accepts:
            score += 50
            reasons.append("accepts_minors")
        else:
            score -= 100
            reasons.append("does_not_accept_minors")
        if needs.persons_count > 1 and "families" in shelter.accepts:
            score += 10
            reasons.append("accepts_families")
    if shelter.capacity_available > 0:
        score += 20
        reasons.append("has_capacity")
    else:
        reasons.append("no_capacity_declared")
    return score, reasons


def rank(
    *, session: Session, needs: Needs, shelter_type: str | None, limit: int
) -> list[Suggestion]:
    """Shelters ranked for a need: département, who they accept, then available capacity.

    Scores: serving the département 100; accepting minors when minors are involved 50
    (and -100 when they do not); accepting families when several people include minors
    10; having a free place 20; then more free places first. Needs have no gender (the
    canonical report has no gender field), so gender is not scored.
    """
    shelters = list_(
        session=session, department=None, shelter_type=shelter_type, include_archived=False
    )
    ranked = [Suggestion(*_score(shelter, needs), shelter) for shelter in shelters]
    ranked.sort(key=lambda s: (-s.score, -s.shelter.capacity_available, s.shelter.name))
    return ranked[:limit]

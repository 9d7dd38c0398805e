"""Shelter networks: outside intakes that receive the referrals made to their shelters.

Admin work, from the CLI (`vigie shelter-network …`), audited like partner accounts. A network
has a key (`vn_…`, shown once, stored as its SHA-256) with which it reports outcomes, and an
intake: a webhook endpoint it owns, whose forwarder is the `shelter_network` integration and
whose signing secret is shown once. Shelters join a network through the directory
(`shelters.service`, the `network` field). Like every service, nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie import clock, credentials
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.crypto import Crypto
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid
from vigie.ids import new_id
from vigie.shelters.models import NETWORK_FORWARDER, Shelter, ShelterNetwork
from vigie.webhooks import service as webhooks
from vigie.webhooks.models import WebhookEndpoint

# What an intake receives: the referrals forwarded to it (routed to it alone).
INTAKE_EVENTS = ("referral.created",)


@dataclass(frozen=True)
class NewNetwork:
    """A network just created, with its two secrets (shown this once, never again)."""

    network: ShelterNetwork
    api_key: str
    intake: WebhookEndpoint
    signing_secret: str


@dataclass(frozen=True)
class NetworkState:
    """A network as `vigie shelter-network list` shows it (never a secret)."""

    network: ShelterNetwork
    intake: WebhookEndpoint | None
    shelters: int
    deliveries: dict[str, int]


def create(
    *,
    session: Session,
    crypto: Crypto,
    settings: webhooks.Settings,
    who: Who,
    name: str,
    intake_url: str,
) -> NewNetwork:
    """A network, its key and its intake endpoint (the URL checked like any webhook URL)."""
    if not name.strip():
        raise Invalid("The name must not be empty.", field="name")
    key = credentials.new_network_key()
    network = ShelterNetwork(
        public_id=new_id("snt"),
        name=name.strip(),
        key_hash=credentials.digest(key),
        key_prefix=key[:10],
        created_at=clock.now(),
    )
    session.add(network)
    session.flush()
    intake, secret = webhooks.create_endpoint(
        session=session,
        crypto=crypto,
        settings=settings,
        partner_id=None,
        shelter_network_id=network.id,
        forwarder=NETWORK_FORWARDER,
        url=intake_url,
        events=INTAKE_EVENTS,
        description=f"Intake of {network.name}"[:500],
    )
    audit.record(
        session=session,
        who=who,
        action="shelter_network.created",
        target=network.public_id,
        details={"intake_endpoint": intake.public_id},
    )
    return NewNetwork(network, key, intake, secret)


def get(*, session: Session, public_id: str) -> ShelterNetwork:
    return get_or_404(session, ShelterNetwork, public_id, what="shelter network")


def list_(*, session: Session) -> list[NetworkState]:
    """Every network with its intake, how many shelters belong to it and its deliveries."""
    members = dict(
        session.execute(
            select(Shelter.network_id, func.count())
            .where(Shelter.network_id.is_not(None))
            .group_by(Shelter.network_id)
        ).all()
    )
    intakes = webhooks.network_intakes(session=session)
    deliveries = webhooks.counts_by_endpoint(
        session=session, endpoint_ids=[e.id for e in intakes.values()]
    )
    states = []
    for network in session.scalars(select(ShelterNetwork).order_by(ShelterNetwork.id)):
        intake = intakes.get(network.id)
        counts = deliveries.get(intake.id, {}) if intake else {}
        states.append(NetworkState(network, intake, members.get(network.id, 0), counts))
    return states


def set_intake(
    *, session: Session, settings: webhooks.Settings, who: Who, public_id: str, url: str | None
) -> WebhookEndpoint:
    """Change the intake's URL (checked) and enable it again: what waited for it is sent."""
    network = get(session=session, public_id=public_id)
    intake = webhooks.network_intake(session=session, shelter_network_id=network.id)
    if network.revoked or intake is None:
        raise Conflict("This shelter network is revoked.")
    changes: dict[str, object] = {"enabled": True}
    if url is not None:
        changes["url"] = url
    webhooks.update_endpoint(
        session=session,
        settings=settings,
        partner_id=None,
        shelter_network_id=network.id,
        endpoint_id=intake.public_id,
        changes=changes,
    )
    audit.record(
        session=session,
        who=who,
        action="shelter_network.intake_changed",
        target=network.public_id,
        details={"fields": sorted(changes)},
    )
    return intake


def revoke(*, session: Session, who: Who, public_id: str) -> ShelterNetwork:
    """Revoke the key and delete the intake: nothing more is forwarded, no outcome accepted.
    Its shelters stay in the directory (referrals to them are no longer forwarded)."""
    network = get(session=session, public_id=public_id)
    network.revoked_at = network.revoked_at or clock.now()
    intake = webhooks.network_intake(session=session, shelter_network_id=network.id)
    if intake is not None:
        webhooks.delete_endpoint(
            session=session,
            partner_id=None,
            shelter_network_id=network.id,
            endpoint_id=intake.public_id,
        )
    audit.record(
        session=session, who=who, action="shelter_network.revoked", target=network.public_id
    )
    return network


def live(*, session: Session, public_id: str, field: str) -> ShelterNetwork:
    """A network a shelter may join: it exists and is not revoked (422 on `field` otherwise)."""
    network = session.scalar(select(ShelterNetwork).where(ShelterNetwork.public_id == public_id))
    if network is None or network.revoked:
        raise Invalid(f"No shelter network {public_id}.", field=field)
    return network

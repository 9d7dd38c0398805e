"""Partner accounts and their keys (admin work, from the CLI for now)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigie import clock, credentials
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.db import get_or_404
from vigie.errors import Conflict, Invalid
from vigie.ids import new_id
from vigie.partners.models import ApiKey, Partner
from vigie.partners.origins import check_origins
from vigie.partners.slugs import MAX_LENGTH, SLUG, unique_slug


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in credentials.SCOPES]
    if unknown or not chosen:
        among, got = ", ".join(credentials.SCOPES), ", ".join(unknown) or "none"
        raise Invalid(f"Scopes must be among {among}; got {got}.", field="scopes")
    return chosen


def _issue_key(session: Session, partner: Partner, scopes: list[str]) -> str:
    key = credentials.new_partner_key()
    session.add(
        ApiKey(
            partner_id=partner.id,
            key_hash=credentials.digest(key),
            prefix=key[:10],
            scopes=" ".join(scopes),
            created_at=clock.now(),
        )
    )
    return key


def create(
    *,
    session: Session,
    who: Who,
    name: str,
    scopes: Iterable[str],
    slug: str | None = None,
    embed_origins: Iterable[str] = (),
    allow_loopback_http: bool = False,
) -> tuple[Partner, str]:
    """A new partner and its first API key (returned once, stored as a hash); audited.

    `slug` names its embeddable form (`/embed/<slug>/report`); by default the name's slug,
    made unique. `embed_origins` are the origins allowed to frame that form (`origins.py`;
    `allow_loopback_http` outside production only).
    """
    chosen = _check_scopes(scopes)
    if not name.strip():
        raise Invalid("The name must not be empty.", field="name")
    origins = check_origins(embed_origins, allow_loopback_http=allow_loopback_http)
    partner = Partner(
        public_id=new_id("ptn"),
        name=name.strip(),
        slug=_free_slug(session, name, slug),
        embed_origins=origins,
        created_at=clock.now(),
    )
    session.add(partner)
    session.flush()
    audit.record(
        session=session,
        who=who,
        action="partner.created",
        target=partner.public_id,
        details={"scopes": chosen, **({"embed_origins": origins} if origins else {})},
    )
    return partner, _issue_key(session, partner, chosen)


def set_embed_origins(
    *,
    session: Session,
    who: Who,
    public_id: str,
    embed_origins: Iterable[str],
    allow_loopback_http: bool = False,
) -> Partner:
    """Replace the origins allowed to frame the partner's form (none: nobody may). Audited."""
    partner = get(session=session, public_id=public_id)
    origins = check_origins(embed_origins, allow_loopback_http=allow_loopback_http)
    partner.embed_origins = origins
    audit.record(
        session=session,
        who=who,
        action="partner.embed_origins_set",
        target=partner.public_id,
        details={"embed_origins": origins},
    )
    return partner


def _free_slug(session: Session, name: str, wanted: str | None) -> str:
    taken = set(session.scalars(select(Partner.slug)))
    if wanted is None:
        return unique_slug(name, taken)
    if not SLUG.match(wanted) or len(wanted) > MAX_LENGTH:
        raise Invalid(
            "The slug is lower-case letters and digits in words joined by hyphens.", field="slug"
        )
    if wanted in taken:
        raise Conflict(f"Another partner already has the slug {wanted!r}.")
    return wanted


def get(*, session: Session, public_id: str) -> Partner:
    return get_or_404(session, Partner, public_id, what="partner")


def list_(*, session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.id)))


def active_key(*, session: Session, partner: Partner) -> ApiKey | None:
    return session.scalar(
        select(ApiKey)
        .where(ApiKey.partner_id == partner.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id.desc())
    )


def revoke(*, session: Session, who: Who, public_id: str) -> Partner:
    """Revoke the partner and every key it holds; effective on the next request. Audited."""
    partner = get(session=session, public_id=public_id)
    now = clock.now()
    partner.revoked_at = partner.revoked_at or now
    session.execute(
        update(ApiKey)
        .where(ApiKey.partner_id == partner.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(session=session, who=who, action="partner.revoked", target=partner.public_id)
    return partner


def rotate_key(*, session: Session, who: Who, public_id: str) -> tuple[Partner, str, list[str]]:
    """Issue a new key with the same scopes and revoke the old ones at once. Audited."""
    partner = get(session=session, public_id=public_id)
    if partner.revoked_at is not None:
        raise Invalid("A revoked partner cannot get a new key.", field="id")
    current = active_key(session=session, partner=partner)
    scopes = current.scope_set if current else frozenset(credentials.SCOPES)
    session.execute(
        update(ApiKey)
        .where(ApiKey.partner_id == partner.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    chosen = sorted(scopes)
    audit.record(
        session=session,
        who=who,
        action="partner.key_rotated",
        target=partner.public_id,
        details={"scopes": chosen},
    )
    return partner, _issue_key(session, partner, chosen), chosen

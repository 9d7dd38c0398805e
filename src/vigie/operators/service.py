"""MIPROF staff accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import clock, credentials
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.errors import Invalid
from vigie.ids import new_id
from vigie.operators.models import Operator


def create(*, session: Session, who: Who, name: str, role: str) -> tuple[Operator, str]:
    """A new staff account and its bearer token (returned once, stored as a hash); audited."""
    if role not in credentials.ROLES:
        raise Invalid(f"The role must be one of {', '.join(credentials.ROLES)}.", field="role")
    if not name.strip():
        raise Invalid("The name must not be empty.", field="name")
    token = credentials.new_operator_token()
    operator = Operator(
        public_id=new_id("opr"),
        name=name.strip(),
        role=role,
        token_hash=credentials.digest(token),
        created_at=clock.now(),
    )
    session.add(operator)
    session.flush()
    audit.record(
        session=session,
        who=who,
        action="operator.created",
        target=operator.public_id,
        details={"role": role},
    )
    return operator, token


def list_(*, session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.id)))


def rotate_token(*, session: Session, who: Who, operator: Operator) -> str:
    """A new token for an account; the old one stops working now. Audited."""
    token = credentials.new_operator_token()
    operator.token_hash = credentials.digest(token)
    audit.record(
        session=session, who=who, action="operator.token_rotated", target=operator.public_id
    )
    return token

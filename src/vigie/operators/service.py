"""MIPROF staff accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie import auth, clock
from vigie.errors import Invalid
from vigie.ids import new_id
from vigie.operators.models import Operator


def create(*, session: Session, name: str, role: str) -> tuple[Operator, str]:
    """A new staff account and its bearer token (returned once, stored as a hash)."""
    if role not in auth.ROLES:
        raise Invalid(f"The role must be one of {', '.join(auth.ROLES)}.", field="role")
    if not name.strip():
        raise Invalid("The name must not be empty.", field="name")
    token = auth.new_operator_token()
    operator = Operator(
        public_id=new_id("opr"),
        name=name.strip(),
        role=role,
        token_hash=auth.digest(token),
        created_at=clock.now(),
    )
    session.add(operator)
    session.flush()
    return operator, token


def list_(*, session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.id)))


def rotate_token(*, session: Session, operator: Operator) -> str:
    """A new token for an account; the old one stops working now."""
    token = auth.new_operator_token()
    operator.token_hash = auth.digest(token)
    return token

"""MIPROF staff accounts: creation, credentials (API token, console password), disabling."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie import clock, credentials
from vigie.audit import service as audit
from vigie.audit.service import Who
from vigie.errors import Conflict, Invalid, NotFound
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


def find(*, session: Session, name: str) -> Operator:
    """The account an admin command names: by its id (opr_…) or by its name, which must be
    unambiguous (404 for none, 409 when several accounts share it)."""
    wanted = name.strip()
    by_id = session.scalar(select(Operator).where(Operator.public_id == wanted))
    if by_id is not None:
        return by_id
    found = list(session.scalars(select(Operator).where(Operator.name == wanted).limit(2)))
    if not found:
        raise NotFound(f"No staff account is named {wanted!r}.")
    if len(found) > 1:
        raise Conflict(f"Several staff accounts are named {wanted!r}: name one by its id (opr_…).")
    return found[0]


def rotate_token(*, session: Session, who: Who, operator: Operator) -> str:
    """A new token for an account; the old one stops working now. Audited."""
    token = credentials.new_operator_token()
    operator.token_hash = credentials.digest(token)
    audit.record(
        session=session, who=who, action="operator.token_rotated", target=operator.public_id
    )
    return token


def set_password(*, session: Session, who: Who, operator: Operator, password: str) -> None:
    """Set the console password (stored as an Argon2 hash). Audited, never logged.

    At least 12 characters. The account name is what staff type to log in, so two accounts
    with a password may not share a name.
    """
    if len(password) < credentials.PASSWORD_MIN_LENGTH:
        raise Invalid(
            f"The password must have at least {credentials.PASSWORD_MIN_LENGTH} characters.",
            field="password",
        )
    if len(password) > credentials.PASSWORD_MAX_LENGTH:
        raise Invalid(
            f"The password must have at most {credentials.PASSWORD_MAX_LENGTH} characters.",
            field="password",
        )
    if "\x00" in password:
        raise Invalid("The password must not contain NUL characters.", field="password")
    namesake = session.scalar(
        select(func.count()).where(
            Operator.name == operator.name,
            Operator.id != operator.id,
            Operator.password_hash.is_not(None),
        )
    )
    if namesake:
        raise Conflict(
            f"Another account named {operator.name!r} already logs in with a password; "
            "staff log in by name, so names must be unique."
        )
    operator.password_hash = credentials.hash_password(password)
    audit.record(
        session=session, who=who, action="operator.password_set", target=operator.public_id
    )


def disable(*, session: Session, who: Who, operator: Operator) -> Operator:
    """Disable an account: its token and its console sessions stop working on their next
    request. Audited; disabling an account already disabled changes nothing."""
    if operator.disabled_at is None:
        operator.disabled_at = clock.now()
        audit.record(
            session=session, who=who, action="operator.disabled", target=operator.public_id
        )
    return operator


def authenticate(
    *, session: Session, name: str, password: str, request_id: str | None = None
) -> Operator | None:
    """The enabled account with this name and password, or None; a success is audited.

    Every refusal (no such name, no password set, disabled, wrong password) costs one Argon2
    verification, so neither the answer nor its time tells whether the account exists. A hash
    made with older parameters is upgraded on success (the caller commits).
    """
    operator = session.scalar(
        select(Operator).where(Operator.name == name.strip(), Operator.password_hash.is_not(None))
    )
    stored = operator.password_hash if operator is not None else None
    if not credentials.verify_password(stored, password):
        return None
    if operator is None or operator.disabled_at is not None:
        return None
    if operator.password_hash and credentials.password_needs_rehash(operator.password_hash):
        operator.password_hash = credentials.hash_password(password)
    who = Who(
        actor=operator.public_id,
        role=operator.role,
        request_id=request_id,
        operator_id=operator.id,
    )
    audit.record(session=session, who=who, action="operator.logged_in", target=operator.public_id)
    return operator


def logged_out(*, session: Session, who: Who) -> None:
    """Audit a logout (the session itself is the console's to end)."""
    audit.record(session=session, who=who, action="operator.logged_out", target=who.actor)


def get_active(*, session: Session, public_id: str) -> Operator | None:
    """An enabled account by its public id (the console's logged-in staff member), or None."""
    return session.scalar(
        select(Operator).where(Operator.public_id == public_id, Operator.disabled_at.is_(None))
    )

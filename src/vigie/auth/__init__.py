"""Who is calling: partners with scoped API keys, MIPROF staff with role tokens, shelter
networks with their key.

One mechanism per kind of caller, each as `Authorization: Bearer <secret>`; the secrets
themselves are made and hashed in `vigie.credentials`. Views declare what they need with
`@auth.partner(blp, scope)`, `@auth.staff(blp, *roles)` or `@auth.network(blp)`, then read
the caller with `current_partner()`, `current_operator()`, `current_network()` or, for audit
entries, `who()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from http import HTTPStatus
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import bindparam, select

from vigie import ratelimit, web
from vigie.audit.service import Who
from vigie.credentials import (
    NETWORK_KEY_PREFIX,
    OPERATOR_TOKEN_PREFIX,
    PARTNER_KEY_PREFIX,
    ROLE_IMPLIES,
    ROLES,
    SCOPES,
    digest,
)
from vigie.errors import PROBLEM_JSON, Forbidden, ProblemSchema, Unauthorized
from vigie.operators.models import Operator
from vigie.partners.models import ApiKey, Partner
from vigie.shelters.models import ShelterNetwork

F = TypeVar("F", bound=Callable[..., Any])

PARTNER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "Partner API key (vk_...), with scopes " + ", ".join(SCOPES),
}
OPERATOR_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "MIPROF staff token (vo_...), with a role: " + ", ".join(ROLES),
}
NETWORK_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "Shelter network key (vn_...), issued by MIPROF with "
    "`vigie shelter-network create`: reports the outcomes of the referrals forwarded to it",
}
# What each scheme answers when a valid credential may not do the operation.
FORBIDDEN_DETAIL = {
    "partnerKey": "This API key lacks the scope {need}.",
    "staffToken": "Your role does not allow this operation.",
    "networkKey": "This operation is for shelter networks.",
}


@dataclass(frozen=True)
class PartnerCaller:
    id: int
    public_id: str
    name: str
    scopes: frozenset[str]
    key_id: int  # the API key used: rate limits count per key


@dataclass(frozen=True)
class OperatorCaller:
    id: int
    public_id: str
    name: str
    role: str

    def has_role(self, *roles: str) -> bool:
        held = {self.role} | ROLE_IMPLIES.get(self.role, set())
        return bool(held & set(roles))


@dataclass(frozen=True)
class NetworkCaller:
    id: int
    public_id: str
    name: str


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Send your credential as Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": 'Bearer realm="vigie"'},
        )
    return token.strip()


def _invalid() -> Unauthorized:
    return Unauthorized(
        "The credential is invalid or revoked.",
        headers={"WWW-Authenticate": 'Bearer realm="vigie", error="invalid_token"'},
    )


# Built once: the lookup every partner request makes (an indexed equality on key_hash).
_PARTNER_BY_KEY = (
    select(ApiKey.id.label("key_id"), ApiKey.scopes, Partner.id, Partner.public_id, Partner.name)
    .join(Partner, Partner.id == ApiKey.partner_id)
    .where(
        ApiKey.key_hash == bindparam("key_hash"),
        ApiKey.revoked_at.is_(None),
        Partner.revoked_at.is_(None),
    )
)


def authenticate_partner(scope: str) -> PartnerCaller:
    token = _bearer()
    if token.startswith(OPERATOR_TOKEN_PREFIX):
        if _find_operator(token) is None:
            raise _invalid()
        raise Forbidden("This operation is for partner systems.")
    with web.lookup() as connection:
        row = connection.execute(_PARTNER_BY_KEY, {"key_hash": digest(token)}).first()
    if row is None:
        if _network_exists(token):
            raise Forbidden("This operation is for partner systems.")
        raise _invalid()
    caller = PartnerCaller(
        id=row.id,
        public_id=row.public_id,
        name=row.name,
        scopes=frozenset(row.scopes.split()),
        key_id=row.key_id,
    )
    if scope not in caller.scopes:
        raise Forbidden(f"This API key lacks the scope {scope}.")
    return caller


def _find_operator(token: str) -> OperatorCaller | None:
    with web.lookup() as connection:
        op = connection.execute(
            select(Operator.id, Operator.public_id, Operator.name, Operator.role).where(
                Operator.token_hash == digest(token), Operator.disabled_at.is_(None)
            )
        ).first()
    if op is None:
        return None
    return OperatorCaller(id=op.id, public_id=op.public_id, name=op.name, role=op.role)


def authenticate_operator(roles: tuple[str, ...]) -> OperatorCaller:
    token = _bearer()
    caller = _find_operator(token) if token.startswith(OPERATOR_TOKEN_PREFIX) else None
    if caller is None:
        valid_partner = token.startswith(PARTNER_KEY_PREFIX) and _partner_exists(token)
        if valid_partner or _network_exists(token):
            raise Forbidden("This operation is for MIPROF staff.")
        raise _invalid()
    if not caller.has_role(*roles):
        raise Forbidden("Your role does not allow this operation.")
    return caller


def _partner_exists(token: str) -> bool:
    with web.lookup() as connection:
        found = connection.scalar(
            select(ApiKey.id).where(ApiKey.key_hash == digest(token), ApiKey.revoked_at.is_(None))
        )
    return found is not None


# Built once, like the partner lookup: an indexed equality on key_hash.
_NETWORK_BY_KEY = select(ShelterNetwork.id, ShelterNetwork.public_id, ShelterNetwork.name).where(
    ShelterNetwork.key_hash == bindparam("key_hash"), ShelterNetwork.revoked_at.is_(None)
)


def _network_exists(token: str) -> bool:
    """A valid shelter network key: on another kind of operation it is 403, not 401 (the key
    is not invalid, as 401 would tell the network)."""
    if not token.startswith(NETWORK_KEY_PREFIX):
        return False
    with web.lookup() as connection:
        return connection.execute(_NETWORK_BY_KEY, {"key_hash": digest(token)}).first() is not None


def authenticate_network() -> NetworkCaller:
    """A shelter network's key; a valid partner key or staff token here is 403, not 401."""
    token = _bearer()
    row = None
    if token.startswith(NETWORK_KEY_PREFIX):
        with web.lookup() as connection:
            row = connection.execute(_NETWORK_BY_KEY, {"key_hash": digest(token)}).first()
    if row is None:
        if _partner_exists(token) or _find_operator(token) is not None:
            raise Forbidden(FORBIDDEN_DETAIL["networkKey"])
        raise _invalid()
    return NetworkCaller(id=row.id, public_id=row.public_id, name=row.name)


def _documented(blp: Any, func: F, scheme: str, needs: list[str]) -> F:
    func = blp.doc(security=[{scheme: needs}])(func)
    for status, detail in (
        (401, "The credential is invalid or revoked."),
        (403, FORBIDDEN_DETAIL[scheme].format(need=needs[0] if needs else "")),
    ):
        phrase = HTTPStatus(status).phrase
        example = {
            "type": f"/problems/{phrase.lower()}",
            "title": phrase,
            "status": status,
            "detail": detail,
        }
        func = blp.alt_response(
            status,
            schema=ProblemSchema,
            content_type=PROBLEM_JSON,
            description=phrase,
            example=example,
        )(func)
    return func


def require_partner(scope: str) -> PartnerCaller:
    """Authenticate this request's partner key for `scope`; it becomes `current_partner()`.

    The one way a request is authenticated as a partner: the `partner` decorator calls it, and
    so does the content blueprint's answer from memory, which runs before any view. So every
    partner operation is also counted here against the key's rate limit for `scope` (429 over
    it), before anything of the request is parsed.
    """
    caller = authenticate_partner(scope)
    g.partner = caller
    ratelimit.charge(caller, scope)
    return caller


def partner(blp: Any, scope: str) -> Callable[[F], F]:
    """Require a partner API key with `scope`; the caller is `g.partner`."""

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_partner(scope)
            return func(*args, **kwargs)

        return _documented(blp, wrapper, "partnerKey", [scope])  # type: ignore[return-value]

    return decorator


def staff(blp: Any, *roles: str) -> Callable[[F], F]:
    """Require a MIPROF staff token holding one of `roles`; the caller is `g.operator`."""

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.operator = authenticate_operator(roles)
            return func(*args, **kwargs)

        return _documented(blp, wrapper, "staffToken", list(roles))  # type: ignore[return-value]

    return decorator


def network(blp: Any) -> Callable[[F], F]:
    """Require a shelter network's key; the caller is `g.network`."""

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.network = authenticate_network()
            return func(*args, **kwargs)

        return _documented(blp, wrapper, "networkKey", [])  # type: ignore[return-value]

    return decorator


def current_network() -> NetworkCaller:
    caller: NetworkCaller = g.network
    return caller


def current_partner() -> PartnerCaller:
    caller: PartnerCaller = g.partner
    return caller


def current_operator() -> OperatorCaller:
    caller: OperatorCaller = g.operator
    return caller


def who() -> Who:
    """The author of this request's actions, with the request id, for audit entries: the
    staff member, or the shelter network (`network:<id>`)."""
    caller: NetworkCaller | None = g.get("network")
    if caller is not None:
        return Who(
            actor=f"network:{caller.public_id}",
            role="shelter_network",
            request_id=g.get("request_id"),
        )
    operator = current_operator()
    return Who(
        actor=operator.public_id,
        role=operator.role,
        request_id=g.get("request_id"),
        operator_id=operator.id,
    )

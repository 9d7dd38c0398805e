"""The secrets callers present: partner API keys (vk_…) with scopes, staff tokens (vo_…) with
roles, shelter network keys (vn_…) for the outcomes of the referrals forwarded to a network, and
the passwords staff type into the console.

Keys and tokens are high-entropy, shown once, and stored only as SHA-256 digests (a slow hash
adds nothing for 256 random bits and would cost every request). Passwords are chosen by people,
so they get a slow, memory-hard hash: Argon2id with argon2-cffi's default parameters (RFC 9106's
low-memory profile). Checking a credential on a request is `vigie.auth`'s (or the console's)
work; making and hashing them is here, so services need no web code.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SCOPES = ("reports:write", "reports:read", "content:read", "webhooks:manage")
ROLES = ("operator", "supervisor", "editor", "admin")
# A supervisor may do everything an operator may.
ROLE_IMPLIES = {"supervisor": {"operator"}}

PARTNER_KEY_PREFIX = "vk_"
OPERATOR_TOKEN_PREFIX = "vo_"  # noqa: S105 - a prefix, not a secret
NETWORK_KEY_PREFIX = "vn_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_partner_key() -> str:
    return PARTNER_KEY_PREFIX + secrets.token_urlsafe(32)


def new_operator_token() -> str:
    return OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_network_key() -> str:
    return NETWORK_KEY_PREFIX + secrets.token_urlsafe(32)


PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024  # far above any passphrase; bounds the hashing work per attempt


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The Argon2id hash of a password, as a self-describing PHC string."""
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; with no stored hash, the same work is done anyway,
    so the time of an answer does not tell whether the account has a password (or exists)."""
    try:
        return _hasher().verify(stored or _decoy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """True when the hash was made with other parameters than today's (upgrade it at login)."""
    return _hasher().check_needs_rehash(stored)


@cache
def _decoy() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))

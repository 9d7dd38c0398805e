"""The secrets callers present: partner API keys (vk_…) with scopes, staff tokens (vo_…) with
roles, shelter network keys (vn_…) for the outcomes of the referrals forwarded to a network.

Secrets are high-entropy, shown once, and stored only as SHA-256 digests (a slow hash adds
nothing for 256 random bits and would cost every request). Checking them on a request is
`vigie.auth`'s work; making and hashing them is here, so services need no web code.
"""

from __future__ import annotations

import hashlib
import secrets

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

"""Public identifiers: a type prefix and 80 random bits, so ids reveal neither order nor volume."""

from __future__ import annotations

import base64
import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(10)).decode().lower()}"

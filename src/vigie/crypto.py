"""Encryption of sensitive fields at rest and blind indexes for matching them.

Fernet (AES-128-CBC + HMAC-SHA256) with MultiFernet for key rotation: the first
key of VIGIE_DATA_KEY encrypts, every listed key decrypts. Blind indexes are
HMAC-SHA256 under a key derived from VIGIE_SECRET_KEY, so they survive data-key
rotation and reveal nothing without the secret.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted with any configured key."""


class Crypto:
    def __init__(self, data_keys: list[str], secret_key: str) -> None:
        if not data_keys:
            raise ValueError("at least one data key is required")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in data_keys])
        self._index_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"vigie blind index v1"
        ).derive(secret_key.encode())

    def encrypt(self, plaintext: str | None) -> str | None:
        if plaintext is None:
            return None
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DecryptionError("no configured data key decrypts this value") from None

    def rotate(self, token: str | None) -> str | None:
        """Re-encrypt under the newest key (for `vigie keys rotate`)."""
        if token is None:
            return None
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def blind_index(self, purpose: str, *parts: str) -> str:
        """Keyed hash of normalised values; equal inputs give equal indexes."""
        normalised = "\x1f".join(" ".join(p.split()).casefold() for p in parts)
        message = purpose.encode() + b"\x00" + normalised.encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()

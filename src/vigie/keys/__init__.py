"""Data-key rotation: re-encrypt every `*_enc` column under the newest key."""

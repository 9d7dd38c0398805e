"""What every process (API worker, background worker, CLI) builds once from config."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.config import Config
from vigie.crypto import Crypto
from vigie.db import Database


@dataclass
class Runtime:
    config: Config
    db: Database
    crypto: Crypto

    @classmethod
    def from_config(cls, config: Config) -> Runtime:
        return cls(
            config=config,
            db=Database.from_config(config),
            crypto=Crypto(config.data_keys, config.secret_key),
        )

"""The small interfaces partner integrations implement, and how the core finds them.

Inbound adapters translate a partner's native payload into the canonical report;
forwarders send a referral to a shelter network. Implementations live in the
top-level `integrations/` package and register through the `vigie.integrations`
entry-point group, so the core never imports a partner module by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

GROUP = "vigie.integrations"


class InboundAdapter(ABC):
    """Maps a partner's native report payload onto the canonical report."""

    name: str

    @abstractmethod
    def to_canonical(self, native: dict[str, Any]) -> dict[str, Any]:
        """The canonical report (before validation); raise ValueError naming a bad field."""


@dataclass(frozen=True)
class ForwardResult:
    ok: bool
    status: int | None = None
    error: str | None = None
    retry: bool = False


class Forwarder(ABC):
    """Sends a referral to an outside organisation (shelter network, association)."""

    name: str

    @abstractmethod
    def forward(self, referral: dict[str, Any]) -> ForwardResult:
        """Send once; return the outcome, never raise for a remote failure."""


def load(name: str) -> Any:
    """The registered integration called `name`; KeyError if none is installed."""
    for entry in entry_points(group=GROUP):
        if entry.name == name:
            return entry.load()()
    raise KeyError(name)


def available() -> list[str]:
    return sorted(entry.name for entry in entry_points(group=GROUP))

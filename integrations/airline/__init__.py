"""Adapter for an airline's cabin-safety reports filed by crew after landing (README.md)."""

from __future__ import annotations

from typing import Any

from integrations.airline import mapping
from integrations.native import example
from vigie.integrations import InboundAdapter, Mapped


class Adapter(InboundAdapter):
    name = "airline"
    title = "Airline: a crew member's cabin-safety report"
    guide = "integrations/airline/README.md"

    def to_canonical(self, native: Any) -> Mapped:
        return mapping.to_canonical(native)

    def example(self) -> dict[str, Any]:
        return example(__file__)


__all__ = ["Adapter"]

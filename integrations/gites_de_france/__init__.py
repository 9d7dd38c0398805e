"""Adapter for a gîtes network's French report form (README.md: the mapping)."""

from __future__ import annotations

from typing import Any

from integrations.gites_de_france import mapping
from integrations.native import example
from vigie.integrations import InboundAdapter, Mapped


class Adapter(InboundAdapter):
    name = "gites_de_france"
    title = "Gîtes network: the hosts' French form"
    guide = "integrations/gites_de_france/README.md"

    def to_canonical(self, native: Any) -> Mapped:
        return mapping.to_canonical(native)

    def example(self) -> dict[str, Any]:
        return example(__file__)


__all__ = ["Adapter"]

"""Adapter for a short-term rental platform's trust & safety cases (README.md: the mapping)."""

from __future__ import annotations

from typing import Any

from integrations.airbnb import mapping
from integrations.native import example
from vigie.integrations import InboundAdapter, Mapped


class Adapter(InboundAdapter):
    name = "airbnb"
    title = "Short-term rental platform: a trust & safety case"
    guide = "integrations/airbnb/README.md"

    def to_canonical(self, native: Any) -> Mapped:
        return mapping.to_canonical(native)

    def example(self) -> dict[str, Any]:
        return example(__file__)


__all__ = ["Adapter"]

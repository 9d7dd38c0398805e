"""The small interfaces partner integrations implement, and how the core finds them.

Inbound adapters translate a partner's native payload into the canonical report;
forwarders send a referral to a shelter network. Implementations live in the
top-level `integrations/` package and register through the `vigie.integrations`
entry-point group, so the core never imports a partner module by name.

An adapter speaks the partner's language in both directions: it maps the native payload
onto the canonical report and records, for each canonical field it filled, the native
field it came from (`Mapped.origins`), so that the canonical validation's errors can be
told to the partner in the partner's own field names (`/concerns/3`, not `indicators[2]`).
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar

GROUP = "vigie.integrations"
BODY = ""  # the JSON pointer of the whole payload

log = logging.getLogger(__name__)
T = TypeVar("T")


# -- JSON pointers (RFC 6901) ---------------------------------------------------


def pointer(*parts: str | int) -> str:
    """The JSON pointer of a native field: `pointer("concerns", 3)` is `/concerns/3`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_parts(value: str) -> list[str]:
    """The reference tokens of a JSON pointer (`/a~1b/0` -> `["a/b", "0"]`)."""
    if value == BODY:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in value.split("/")[1:]]


# Canonical paths are the ones the core's errors name: `stay.check_out`, `indicators[2]`.
_CANONICAL_STEP = re.compile(r"\[\d+\]$|\.[^.\[\]]+$|^[^.\[\]]+$")


def enclosing(canonical_path: str) -> str | None:
    """The canonical path one level up (`indicators[2]` -> `indicators`), None at the top."""
    step = _CANONICAL_STEP.search(canonical_path)
    if step is None or step.start() == 0:
        return None
    return canonical_path[: step.start()]


# -- inbound adapters -----------------------------------------------------------


@dataclass(frozen=True)
class NativeError:
    """One thing wrong with a native payload, at a JSON pointer into it (BODY: the whole)."""

    pointer: str
    detail: str


class NativeInvalid(Exception):
    """The native payload cannot be mapped; every error names a native field."""

    def __init__(self, errors: Iterable[NativeError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} invalid native field(s)")


@dataclass(frozen=True)
class Mapped:
    """A canonical report (not yet validated) and where each of its fields came from.

    `origins` maps canonical paths, written as the core's errors write them
    (`persons.count`, `indicators[2]`), to JSON pointers into the native payload.
    A block may be mapped as a whole (`stay` -> `/reservation`) and some of its
    fields more precisely (`stay.listing_reference` -> `/listing/id`).
    """

    report: dict[str, Any]
    origins: Mapping[str, str] = field(default_factory=dict)

    def native_field(self, canonical_path: str) -> str:
        """The native pointer closest to a canonical path: itself, an enclosing field, or BODY."""
        current: str | None = canonical_path
        while current:
            found = self.origins.get(current)
            if found is not None:
                return found
            current = enclosing(current)
        return BODY


class InboundAdapter(ABC):
    """Maps a partner's native report payload onto the canonical report.

    `name` is the entry-point name (the `{adapter}` of the URL and the report's channel
    `adapter:<name>`); `title` and `guide` (the README documenting the native format)
    and `example()` (a native payload) feed the API reference.
    """

    name: str
    title: str = ""
    guide: str = ""

    @abstractmethod
    def to_canonical(self, native: Any) -> Mapped:
        """The canonical report and its origins; raise NativeInvalid naming native fields.

        `native` is whatever JSON the partner sent (any type). Never raise anything else
        for bad input: unknown native codes are errors, not silently dropped values.
        """

    def example(self) -> dict[str, Any] | None:
        """A native payload this adapter accepts, for the documentation."""
        return None


# -- outbound forwarders --------------------------------------------------------


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


# -- the registry ---------------------------------------------------------------


class NotInstalled(KeyError):
    """No integration of that name (and kind) is installed."""


def _factory(name: str, kind: type[Any] | None) -> Any:
    for entry in entry_points(group=GROUP):
        if entry.name != name:
            continue
        try:
            factory = entry.load()
        except ImportError as error:
            log.error(
                "integration cannot be imported",
                extra={"integration": name, "error": type(error).__qualname__},
            )
            raise NotInstalled(name) from None
        if kind is not None and not (isinstance(factory, type) and issubclass(factory, kind)):
            raise NotInstalled(name)
        return factory
    raise NotInstalled(name)


def load(name: str, kind: type[T] | None = None) -> Any:
    """The registered integration called `name`, instantiated.

    With `kind` (InboundAdapter, Forwarder), an integration of another kind is
    NotInstalled too: asking for an adapter never returns a forwarder. An entry point
    whose module cannot be imported is logged (class only) and NotInstalled.
    """
    return _factory(name, kind)()


def load_adapter(name: str) -> InboundAdapter:
    adapter: InboundAdapter = load(name, InboundAdapter)
    return adapter


def available(kind: type[Any] | None = None) -> list[str]:
    """Names of the installed integrations (of `kind`, when given: those that load as it)."""
    names = sorted({entry.name for entry in entry_points(group=GROUP)})
    if kind is None:
        return names
    found = []
    for name in names:
        try:
            _factory(name, kind)
        except NotInstalled:
            continue
        found.append(name)
    return found

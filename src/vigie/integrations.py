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
from typing import Any, TypedDict, TypeVar

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


class ForwardedPersons(TypedDict):
    count: int
    minors: int | None  # how many are minors, None when unknown
    minors_involved: bool


class ForwardedShelter(TypedDict):
    id: str
    name: str


class ForwardedReferral(TypedDict):
    """What the core hands a forwarder about one referral: facts to act on, nothing else.

    Written by `vigie.triage.referrals` into the outbox event routed to the outside intake,
    in the transaction of the referral. No partner, reporter, free text or operator is in it,
    so no forwarder can send them.
    """

    referral_id: str
    shelter: ForwardedShelter  # the shelter of the intake the people are referred to
    target_type: str
    priority: str  # P1 (immediate danger) … P4
    department: str | None  # département code, None when the report has none
    persons: ForwardedPersons
    languages: list[str]  # BCP 47 tags of the languages the people speak, as recorded


@dataclass(frozen=True)
class ForwardContext:
    """What the platform adds to a forwarded referral: how the intake answers back."""

    public_base_url: str  # e.g. "https://vigie.miprof.gouv.fr"; "" leaves links relative
    contact: str  # MIPROF's desk for a question about a forwarded referral; "" when not set


@dataclass(frozen=True)
class ForwardResult:
    """How a forwarder reads one answer of the intake: success, or a failure to retry or not."""

    ok: bool
    status: int | None = None
    error: str | None = None
    retry: bool = False

    @property
    def permanent(self) -> bool:
        """A failure that sending the same bytes again cannot fix."""
        return not self.ok and not self.retry


class Forwarder(ABC):
    """Sends referrals to an outside intake (a shelter network, an association).

    The core's webhook worker does the sending: it signs the JSON (Standard Webhooks), checks
    the URL against SSRF at every attempt, retries on its schedule and records every attempt.
    A forwarder decides what is sent and what the intake's answer means.
    """

    name: str

    @abstractmethod
    def payload(self, referral: ForwardedReferral, context: ForwardContext) -> dict[str, Any]:
        """The event's `data` for the intake: the minimum it needs to act on the referral."""

    @abstractmethod
    def classify(self, status: int | None, error: str | None) -> ForwardResult:
        """One answer of the intake (`status` None when none came; `error` then says why)."""

    def data_schema(self) -> dict[str, Any] | None:
        """The JSON Schema of what `payload` returns, for the OpenAPI document's `webhooks`
        (the intake's developers generate their models from it). None: undocumented."""
        return None


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

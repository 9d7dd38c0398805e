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
from typing import Any, TypedDict

GROUP = "vigie.integrations"


class InboundAdapter(ABC):
    """Maps a partner's native report payload onto the canonical report."""

    name: str

    @abstractmethod
    def to_canonical(self, native: dict[str, Any]) -> dict[str, Any]:
        """The canonical report (before validation); raise ValueError naming a bad field."""


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


def load(name: str) -> Any:
    """The registered integration called `name`; KeyError if none is installed."""
    for entry in entry_points(group=GROUP):
        if entry.name == name:
            return entry.load()()
    raise KeyError(name)


def available() -> list[str]:
    return sorted(entry.name for entry in entry_points(group=GROUP))

"""What staff read: French labels for the vocabulary's codes, dates in Paris time, durations.

Indicator, exploitation and reporter-role labels come from the vocabulary itself
(`vigie.reports.vocabulary`, the same tables partners' forms are built from); the codes
that have no label there (statuses, contexts, closure reasons, shelter types, reasons)
get theirs here. An unknown code is shown as is, never an error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from vigie.reports.vocabulary import EXPLOITATION, INDICATOR_BY_CODE, REPORTER_ROLES

PARIS = ZoneInfo("Europe/Paris")

STATUSES = {
    "received": "Reçu",
    "in_review": "En examen",
    "referred": "Orienté",
    "closed": "Clos",
}
PARTNER_STATUSES = {
    "received": "reçu",
    "in_review": "en examen",
    "actioned": "suite donnée",
    "closed": "clos",
}
CONTEXTS = {"stay": "Séjour", "flight": "Vol", "other": "Autre"}
PRIORITIES = {
    "P1": "P1 — danger immédiat",
    "P2": "P2 — urgent",
    "P3": "P3 — à traiter",
    "P4": "P4 — à examiner",
}
EXPLOITATIONS = {e.code: e.fr for e in EXPLOITATION}
REPORTER_ROLE_LABELS = {r.code: r.fr for r in REPORTER_ROLES}
CLOSURE_REASONS = {
    "duplicate": "Doublon",
    "no_grounds": "Sans fondement",
    "insufficient_information": "Informations insuffisantes",
    "handled_by_law_enforcement": "Pris en main par les forces de l'ordre",
    "victims_protected": "Victimes mises à l'abri",
    "other": "Autre motif",
}
SHELTER_TYPES = {
    "emergency_shelter": "Hébergement d'urgence (SIAO, 115)",
    "protected_shelter": "Réseau d'hébergement protégé",
    "child_protection": "Protection de l'enfance (CRIP, 119)",
    "association": "Association spécialisée",
    "law_enforcement": "Police ou gendarmerie",
    "health": "Santé",
}
SUGGESTION_REASONS = {
    "serves_department": "Couvre le département",
    "accepts_minors": "Accueille des mineurs",
    "does_not_accept_minors": "N'accueille pas de mineurs",
    "accepts_families": "Accueille des familles",
    "has_capacity": "Places déclarées disponibles",
    "no_capacity_declared": "Aucune place déclarée",
}
RELATED_REASONS = {
    "same_listing": "même annonce",
    "same_flight": "même vol",
    "duplicate_of_this": "doublon de celui-ci",
    "this_is_duplicate_of": "celui-ci en est le doublon",
}
REFERRAL_STATUSES = {
    "pending": "En attente de réponse",
    "accepted": "Acceptée",
    "declined": "Refusée",
    "no_capacity": "Pas de place",
    "completed": "Terminée",
}
ACCEPTS = {"women": "femmes", "men": "hommes", "families": "familles", "minors": "mineurs"}
CHANNELS = {"api": "API", "batch": "API (lot)", "form": "Formulaire intégré"}


def label(code: Any, table: dict[str, str]) -> str:
    """The label of `code` in `table` (a Jinja filter: `code | label(STATUSES)`)."""
    if code is None:
        return "—"
    return table.get(str(code), str(code))


def indicator(code: str) -> str:
    found = INDICATOR_BY_CODE.get(code)
    return found.fr if found else code


def is_strong(code: str) -> bool:
    found = INDICATOR_BY_CODE.get(code)
    return bool(found and found.strong)


def channel(code: str | None) -> str:
    if code and code.startswith("adapter:"):
        return f"Connecteur {code.removeprefix('adapter:')}"
    return label(code, CHANNELS)


def when(value: datetime | None) -> str:
    """An instant as Paris time: 02/12/2026 à 14:05."""
    if value is None:
        return "—"
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def day(value: str | None) -> str:
    """A calendar date as the API writes it (2026-11-14), as people read it: 14/11/2026."""
    if not value:
        return "—"
    return date.fromisoformat(value).strftime("%d/%m/%Y")


def hour(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(PARIS).strftime("%H:%M")


def duration(seconds: float) -> str:
    """A length of time for people: 45 s, 12 min, 2 h 05, 3 j 4 h."""
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} j {hours} h"


def due(status: str, due_at: datetime, now: datetime) -> tuple[str, bool]:
    """What the queue says of the first-review deadline, and whether it is overdue."""
    if status != "received":
        return "Premier examen fait", False
    left = (due_at - now).total_seconds()
    if left < 0:
        return f"En retard de {duration(left)}", True
    return f"Reste {duration(left)}", False


FILTERS = {
    "label": label,
    "indicator": indicator,
    "channel": channel,
    "when": when,
    "day": day,
    "hour": hour,
}
TABLES = {
    "STATUSES": STATUSES,
    "PARTNER_STATUSES": PARTNER_STATUSES,
    "CONTEXTS": CONTEXTS,
    "PRIORITIES": PRIORITIES,
    "EXPLOITATIONS": EXPLOITATIONS,
    "REPORTER_ROLES": REPORTER_ROLE_LABELS,
    "CLOSURE_REASONS": CLOSURE_REASONS,
    "SHELTER_TYPES": SHELTER_TYPES,
    "SUGGESTION_REASONS": SUGGESTION_REASONS,
    "RELATED_REASONS": RELATED_REASONS,
    "REFERRAL_STATUSES": REFERRAL_STATUSES,
    "ACCEPTS": ACCEPTS,
}

"""Service errors as French sentences for staff (the services speak English to API clients).

The console shows the error of the service it called, never its own verdict: the kind of
error and the fields it names choose the sentence, and a claim conflict names the holder and
the expiry the service reported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from vigie.console.labels import hour
from vigie.errors import Conflict, Forbidden, Invalid, NotFound, Problem, flatten_messages

FIELDS = {
    "closure_reason": "Choisissez un motif de clôture dans la liste.",
    "duplicate_of": (
        "Pour un doublon, indiquez l'identifiant d'un autre signalement (et seulement pour un "
        "doublon)."
    ),
    "shelter_id": "Cet hébergement ne peut pas recevoir cette orientation.",
    "target_type": "Choisissez un type d'orientation dans la liste.",
    "body": "La note doit contenir entre 1 et 10 000 caractères.",
    "comment": "Le commentaire doit contenir au plus 5 000 caractères.",
    "to": "Ce changement de statut n'existe pas.",
    # Hébergements (the shelter capacity form)
    "capacity_available": (
        "Le nombre de places disponibles doit être un nombre entier, au moins 0 et au plus la "
        "capacité totale."
    ),
    "capacity_total": "La capacité totale doit être un nombre entier entre 0 et 100 000.",
    # Contenus (a translation's form, and what publishing requires)
    "title": "Le titre doit contenir entre 1 et 200 caractères.",
    "summary": "Le résumé doit contenir entre 1 et 1 000 caractères.",
    "body_markdown": "Le texte (Markdown) doit contenir entre 1 et 50 000 caractères.",
    "key": "La langue doit être un code connu, par exemple fr, en ou pt-BR.",  # a locale (Dict key)
    "translations.fr": "Une traduction en français (fr) est nécessaire pour publier.",
    "url": "Les liens (médias, bouton d'action) doivent commencer par https://.",
    "expires_at": "La date d'expiration est déjà passée : ce contenu serait aussitôt expiré.",
}


def _holder(problem: Problem) -> str | None:
    holder = problem.extensions.get("holder")
    if not holder:
        return None
    expires = problem.extensions.get("expires_at")
    until = f" jusqu'à {hour(datetime.fromisoformat(expires))}" if expires else ""
    return (
        f"{holder['name']} a pris ce signalement en charge{until}. Vous ne pouvez pas agir dessus."
    )


def _conflict(problem: Conflict) -> str:
    held = _holder(problem)
    if held:
        return held
    if "status_now" in problem.extensions:
        return "Cette action n'est pas possible dans le statut actuel du signalement."
    if problem.errors:  # a refusal naming its fields (publishing content)
        return _fields([e.get("field", "") for e in problem.errors])
    detail = problem.detail or ""
    if detail.startswith("Only a published item"):
        return "Seul un contenu publié peut être retiré ; celui-ci ne l'a jamais été."
    if detail.startswith("Claim this report"):
        return "Prenez d'abord ce signalement en charge."
    if "erased" in detail:
        return "Les données personnelles de ce signalement ont été effacées : aucune note possible."
    return "Cette action entre en conflit avec l'état actuel du signalement. Rechargez la page."


def _sentence(name: str) -> str:
    """The sentence for a field path (`translations.fr.value.title`): the whole path, then
    its last part, then its first."""
    parts = name.split(".")
    return FIELDS.get(name) or FIELDS.get(parts[-1].split("[")[0]) or FIELDS.get(parts[0], "")


def _fields(fields: list[str]) -> str:
    sentences = [_sentence(name) for name in fields]
    return (
        " ".join(s for s in dict.fromkeys(sentences) if s)
        or "Une valeur du formulaire n'est pas valide."
    )


def french(error: Problem | ValidationError) -> str:
    """One French sentence for what went wrong."""
    if isinstance(error, ValidationError):
        messages: Any = error.messages
        if not isinstance(messages, dict):
            return _fields([])
        return _fields([e["field"] for e in flatten_messages(messages)])
    if isinstance(error, Conflict):
        return _conflict(error)
    if isinstance(error, Forbidden):
        return "Votre rôle ne permet pas cette action."
    if isinstance(error, NotFound):
        return "Ce signalement, ou l'élément demandé, n'existe pas."
    if isinstance(error, Invalid):
        return _fields([e.get("field", "") for e in error.errors or []])
    return "L'action n'a pas pu être faite. Rechargez la page et recommencez."

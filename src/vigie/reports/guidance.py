"""Emergency guidance returned to the reporter when people are at risk."""

from __future__ import annotations

from typing import Any

_NUMBERS = {
    "17": {"fr": "Police et gendarmerie", "en": "Police and gendarmerie"},
    "112": {"fr": "Numéro d'urgence européen", "en": "European emergency number"},
    "114": {
        "fr": "Urgences par SMS, pour qui ne peut pas parler",
        "en": "Emergency by text message, for people who cannot speak",
    },
    "119": {"fr": "Enfants en danger", "en": "Children in danger"},
}
_MESSAGES = {
    "danger": {
        "fr": "Des personnes sont en danger immédiat : appelez le 17 ou le 112 maintenant.",
        "en": "People are in immediate danger: call 17 or 112 now.",
    },
    "danger_minors": {
        "fr": "Des personnes sont en danger immédiat : appelez le 17 ou le 112 maintenant. "
        "Des mineurs sont concernés : appelez aussi le 119.",
        "en": "People are in immediate danger: call 17 or 112 now. "
        "Minors are involved: also call 119.",
    },
    "minors": {
        "fr": "Des mineurs sont concernés : appelez le 119 (enfants en danger). "
        "En cas de danger immédiat, appelez le 17 ou le 112.",
        "en": "Minors are involved: call 119 (children in danger). "
        "If anyone is in immediate danger, call 17 or 112.",
    },
}


def guidance_language(language: str) -> str:
    """French for French speakers, English for everyone else (the labels we have)."""
    return "fr" if language.lower().split("-")[0] == "fr" else "en"


def emergency_guidance(
    *, in_immediate_danger: bool, minors_involved: bool, language: str
) -> dict[str, Any] | None:
    if not (in_immediate_danger or minors_involved):
        return None
    lang = guidance_language(language)
    key = ("danger_minors" if minors_involved else "danger") if in_immediate_danger else "minors"
    numbers = ["17", "112", "114"] + (["119"] if minors_involved else [])
    return {
        "language": lang,
        "message": _MESSAGES[key][lang],
        "numbers": [{"number": n, "label": _NUMBERS[n][lang]} for n in numbers],
    }

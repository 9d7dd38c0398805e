"""The form's French labels and answers, and the canonical codes they map to.

Labels are the French labels of the canonical vocabulary (`GET /v1/indicators`), so the
form shows hosts exactly what MIPROF's operators read. They are matched without regard
to accents, case, apostrophe style or spaces (`integrations.native.plain_text`).
"""

from __future__ import annotations

from vigie.reports.vocabulary import EXPLOITATION, INDICATORS

# signes -> indicators: every stay or general indicator, by its French label
SIGNS: dict[str, str] = {i.fr: i.code for i in INDICATORS if i.context in ("stay", "any")}

# type_suspecte -> suspected_exploitation
TYPES: dict[str, str] = {e.fr: e.code for e in EXPLOITATION}

YES_NO: dict[str, bool] = {"oui": True, "non": False}

# mineurs -> persons.minors: "oui" is "at least one" (the form does not ask how many)
MINORS: dict[str, int | None] = {"oui": 1, "non": 0, "je ne sais pas": None}

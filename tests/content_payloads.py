"""Editor bodies for content tests."""

from __future__ import annotations

import copy
from typing import Any


def item_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "briefing",
        "audiences": ["cabin_crew"],
        "translations": {
            "fr": {
                "title": "Repérer les signes à bord",
                "summary": "Un accompagnateur garde les papiers.",
                "body_markdown": "Ne confrontez pas l'accompagnateur. Appelez le **17**.",
                "call_to_action": {"label": "Police", "phone": "17"},
            },
            "en": {
                "title": "Spotting the signs on board",
                "summary": "A companion keeps the documents.",
                "body_markdown": "Do not confront the companion. Call **17**.",
            },
        },
    }
    body.update(copy.deepcopy(changes))
    return body

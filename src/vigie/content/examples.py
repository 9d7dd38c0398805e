"""Examples shown in the OpenAPI document."""

from __future__ import annotations

CONTENT_EXAMPLE = {
    "key": "cabin-crew-signs",
    "kind": "briefing",
    "audiences": ["cabin_crew", "ground_staff"],
    "exploitation": ["sexual", "labour"],
    "campaigns": [],
    "translations": {
        "fr": {
            "title": "Repérer les signes à bord",
            "summary": "Un accompagnateur qui garde les papiers et répond à la place du passager.",
            "body_markdown": "- Un accompagnateur garde le passeport ou la carte d'embarquement\n"
            "- Ne confrontez pas l'accompagnateur\n\nAppelez le **17** ou le **112**.",
            "call_to_action": {"label": "Police et gendarmerie", "phone": "17"},
        },
        "en": {
            "title": "Spotting the signs on board",
            "summary": "A companion who keeps the documents and answers for the passenger.",
            "body_markdown": "- A companion keeps the passport or boarding pass\n"
            "- Do not confront the companion\n\nCall **17** or **112**.",
            "call_to_action": {"label": "Police", "phone": "17"},
        },
    },
}

PROBLEM_NO_FRENCH = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "The item cannot be published: A French translation is required.",
    "errors": [
        {
            "field": "translations.fr",
            "pointer": "#/translations/fr",
            "detail": "A French translation is required.",
        }
    ],
    "instance": "/v1/admin/content/cnt_mfrggzdfmztwq2lk/publish",
}

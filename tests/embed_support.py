"""Helpers for the embeddable form's tests: a partner with a form, a filled-in form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import ALL_SCOPES, SEEDER, Actor
from vigie import clock

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PARIS = ZoneInfo("Europe/Paris")


def form_partner(db, name: str = "Gîtes de France", origins: tuple[str, ...] = ()) -> Actor:
    from vigie.partners import service

    with db.unit() as session:
        partner, key = service.create(
            session=session,
            who=SEEDER,
            name=name,
            scopes=ALL_SCOPES,
            embed_origins=origins,
            allow_loopback_http=True,
        )
        return Actor(id=partner.public_id, pk=partner.id, slug=partner.slug, secret=key)


def token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def fresh_token(client, slug: str, lang: str = "fr") -> str:
    response = client.get(f"/embed/{slug}/report?lang={lang}")
    assert response.status_code == 200
    return token(response.get_data(as_text=True))


def yesterday() -> str:
    return (clock.now().astimezone(PARIS) - timedelta(days=1)).date().isoformat()


def filled(csrf: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid stay report as the browser posts it."""
    day = yesterday()
    data: dict[str, Any] = {
        "csrf_token": csrf,
        "context": "stay",
        "observed_date": day,
        "observed_time": "22:40",
        "postcode": "13003",
        "commune": "Marseille",
        "listing_reference": "Mas des Oliviers",
        "booking_reference": "",
        "check_in": day,
        "check_out": day,
        "guest_count": "2",
        "indicators": ["more_occupants_than_booked", "frequent_visitors"],
        "exploitation": ["sexual"],
        "persons_count": "5",
        "minors": "",
        "danger": "no",
        "description": "Réservation pour 2, au moins 5 jeunes femmes présentes.",
        "reporter_role": "host",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(client, slug: str, lang: str = "fr", headers: dict[str, str] | None = None, **fields):
    csrf = fresh_token(client, slug, lang)
    return client.post(
        f"/embed/{slug}/report?lang={lang}", data=filled(csrf, **fields), headers=headers or {}
    )


def count(db, table: str) -> int:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def receipt(page: str) -> str:
    found = re.search(r"<dd><strong>(rep_[a-z0-9]+)</strong></dd>", page)
    assert found, page
    return found.group(1)

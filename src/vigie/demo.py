"""`vigie demo`: a laptop-sized Vigie on SQLite, API and worker in one process.

Re-running it is safe: existing demo accounts get fresh credentials (only hashes are stored,
so old ones cannot be shown again).
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta
from typing import Any, TextIO

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from vigie import clock, migrate, worker
from vigie.audit.service import Who
from vigie.content import importing as content
from vigie.operators import service as operators
from vigie.operators.models import Operator
from vigie.partners import service as partners
from vigie.partners.models import Partner
from vigie.reports import service as reports
from vigie.reports.models import Report
from vigie.reports.schemas import ReportSchema
from vigie.runtime import Runtime
from vigie.shelters import service as shelters
from vigie.shelters.models import Shelter

DEMO_SEEDER = Who.system("demo")
DEMO_PARTNERS = ("Airbnb (démo)", "Gîtes de France (démo)", "Air France (démo)")
DEMO_STAFF = (
    ("Opératrice démo", "operator"),
    ("Superviseur démo", "supervisor"),
    ("Éditrice démo", "editor"),
    ("Admin démo", "admin"),
)


# Fictional organisations, so the demo's shelter suggestions and referrals have something to show.
DEMO_SHELTERS: tuple[dict[str, Any], ...] = (
    {
        "name": "Hébergement d'urgence Marseille (démo)",
        "type": "emergency_shelter",
        "departments": ["13"],
        "accepts": ["women", "families", "minors"],
        "languages": ["fr", "en", "ro"],
        "capacity_total": 12,
        "capacity_available": 3,
        "contact": {"name": "SIAO 13 (démo)", "phone": "115"},
    },
    {
        "name": "Réseau de centres protégés (démo)",
        "type": "protected_shelter",
        "departments": ["13", "64", "75"],
        "accepts": ["women", "men"],
        "languages": ["fr", "en", "es"],
        "capacity_total": 6,
        "capacity_available": 1,
        "contact": {"name": "Coordination nationale (démo)"},
    },
    {
        "name": "Association d'accompagnement Pays basque (démo)",
        "type": "association",
        "departments": ["64"],
        "accepts": ["women", "men", "families"],
        "languages": ["fr", "es"],
        "capacity_total": 0,
        "capacity_available": 0,
        "contact": {"name": "Permanence (démo)"},
    },
)


def _demo_reports() -> list[dict[str, Any]]:
    observed = (clock.now() - timedelta(hours=3)).isoformat()
    base: dict[str, Any] = {
        "observed_at": observed,
        "reporter": {"role": "host", "contact_consent": False},
        "language": "fr",
    }
    return [
        {
            **base,
            "partner_reference": "DEMO-STAY-1",
            "context": "stay",
            "location": {"postcode": "13003", "commune": "Marseille"},
            "stay": {
                "listing_reference": "listing-demo-1",
                "check_in": "2026-11-14",
                "check_out": "2026-12-05",
                "guest_count": 2,
            },
            "indicators": ["more_occupants_than_booked", "frequent_visitors"],
            "suspected_exploitation": ["sexual"],
            "persons": {"count": 5, "minors": None, "in_immediate_danger": False},
            "description": "Démo : plus d'occupants que prévu.",
        },
        {
            **base,
            "partner_reference": "DEMO-STAY-2",
            "context": "stay",
            "location": {"postcode": "64200", "commune": "Biarritz"},
            "stay": {
                "listing_reference": "G-64-1123",
                "check_in": "2026-11-21",
                "check_out": "2026-11-28",
                "guest_count": 4,
            },
            "indicators": ["workers_housed_collectively", "transported_to_work_in_groups"],
            "suspected_exploitation": ["labour"],
            "persons": {"count": 11, "minors": 2, "in_immediate_danger": False},
            "description": "Démo : travailleurs logés à plusieurs.",
        },
    ]


def _seed_partners(session: Session) -> tuple[list[dict[str, Any]], int]:
    """The demo partners with fresh keys; also the id of the first, which owns the demo reports."""
    seeded, first_id = [], 0
    for name in DEMO_PARTNERS:
        existing = session.scalar(select(Partner).where(Partner.name == name))
        if existing is None:
            created, key = partners.create(
                who=DEMO_SEEDER,
                session=session,
                name=name,
                scopes=["reports:write", "reports:read", "content:read", "webhooks:manage"],
            )
            partner_id, public_id = created.id, created.public_id
        else:
            _, key, _ = partners.rotate_key(
                session=session, who=DEMO_SEEDER, public_id=existing.public_id
            )
            partner_id, public_id = existing.id, existing.public_id
        seeded.append({"id": public_id, "name": name, "api_key": key})
        first_id = first_id or partner_id
    return seeded, first_id


def _seed_staff(session: Session) -> tuple[list[dict[str, Any]], Who]:
    """The demo staff accounts with fresh tokens and console passwords; also the admin, who
    files the shelters."""
    seeded, admin = [], DEMO_SEEDER
    for name, role in DEMO_STAFF:
        account = session.scalar(select(Operator).where(Operator.name == name))
        if account is None:
            account, token = operators.create(
                session=session, who=DEMO_SEEDER, name=name, role=role
            )
        else:
            token = operators.rotate_token(session=session, who=DEMO_SEEDER, operator=account)
        password = f"demo-{secrets.token_urlsafe(12)}"
        operators.set_password(
            session=session, who=DEMO_SEEDER, operator=account, password=password
        )
        seeded.append({"name": name, "role": role, "token": token, "password": password})
        if role == "admin":
            admin = Who(actor=account.public_id, role=role, operator_id=account.id)
    return seeded, admin


def _seed_shelters(session: Session, admin: Who) -> None:
    for shelter in DEMO_SHELTERS:
        if session.scalar(select(Shelter.id).where(Shelter.name == shelter["name"])) is None:
            shelters.create(session=session, who=admin, data=dict(shelter, integration=None))


def _seed_reports(session: Session, runtime: Runtime, partner_id: int) -> None:
    for raw in _demo_reports():
        seeded = session.scalar(
            select(Report.id).where(
                Report.partner_id == partner_id,
                Report.partner_reference == raw["partner_reference"],
            )
        )
        if seeded is None:
            reports.create(
                session=session,
                crypto=runtime.crypto,
                partner_id=partner_id,
                data=ReportSchema().load(raw),
            )


def seed(runtime: Runtime) -> dict[str, Any]:
    """Create or refresh the demo accounts, shelters and reports; returns the credentials."""
    with runtime.db.unit() as session:
        partner_credentials, owner_id = _seed_partners(session)
        staff_credentials, admin = _seed_staff(session)
        _seed_shelters(session, admin)
        _seed_reports(session, runtime, owner_id)
    return {"partners": partner_credentials, "staff": staff_credentials}


def run(app: Flask, *, host: str, port: int, out: TextIO) -> None:
    runtime: Runtime = app.extensions["vigie"]
    migrate.upgrade(runtime.db.engine)
    credentials = seed(runtime)
    content.load_seed(runtime)
    url = f"http://{host}:{port}"
    lines = [
        "",
        "Vigie demo (SQLite, API + worker in one process)",
        f"  API:      {url}/v1",
        f"  API docs: {url}/docs",
        f"  Console:  {url}/console/",
        "",
        "Partner API keys (Authorization: Bearer <key>):",
        *[f"  {p['name']:<26} {p['api_key']}" for p in credentials["partners"]],
        "",
        "MIPROF staff tokens:",
        *[f"  {s['role']:<11} {s['name']:<20} {s['token']}" for s in credentials["staff"]],
        "",
        f"Console ({url}/console/), Identifiant and Mot de passe:",
        *[f"  {s['role']:<11} {s['name']:<20} {s['password']}" for s in credentials["staff"]],
        "",
        f"Try: curl -s {url}/v1/indicators | head -c 300",
        "Stop with Ctrl-C.",
        "",
    ]
    # Bound before the banner says so: whoever reads "Stop with Ctrl-C." can connect at once.
    server = make_server(host, port, app, threaded=True)
    stop = threading.Event()
    background = threading.Thread(target=worker.run, args=(runtime, stop), daemon=True)
    background.start()
    out.write("\n".join(lines))
    out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        background.join(timeout=30)

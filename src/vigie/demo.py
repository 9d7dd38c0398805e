"""`vigie demo`: a laptop-sized Vigie on SQLite, API and worker in one process.

Development only. Webhook receivers on this machine (loopback, any port) are allowed, with
the app's warning, so a partner developer can try webhooks with no tunnel. Re-running it is
safe and keeps the demo accounts' keys, tokens and console passwords: the database stores only
their hashes, so the demo keeps them in `<var_dir>/demo-credentials.json` (mode 0600) and
reprints them; one that no longer matches its account is replaced.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from vigie import clock, credentials, migrate, worker
from vigie.app import create_app
from vigie.audit.service import Who
from vigie.config import ConfigError, load_config
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


def create_demo_app() -> Flask:
    """The app `vigie demo` serves: the configuration as loaded, with loopback webhook
    receivers allowed. Refused in production."""
    config = load_config()
    if config.is_production:
        raise ConfigError("vigie demo is for development only, and VIGIE_ENV is production")
    return create_app(replace(config, webhook_allow_private=True))


def credentials_file(runtime: Runtime) -> Path:
    return Path(runtime.config.var_dir) / "demo-credentials.json"


def _kept(runtime: Runtime) -> dict[str, Any]:
    """The credentials an earlier run kept, or none."""
    try:
        kept = json.loads(credentials_file(runtime).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _keep(runtime: Runtime, seeded: dict[str, Any]) -> None:
    path = credentials_file(runtime)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(seeded, ensure_ascii=False, indent=2) + "\n", "utf-8")


def _still_valid_key(session: Session, partner: Partner, key: str | None) -> bool:
    active = partners.active_key(session=session, partner=partner)
    return (
        key is not None
        and partner.revoked_at is None
        and active is not None
        and active.key_hash == credentials.digest(key)
    )


def _seed_partners(session: Session, kept: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """The demo partners with their kept keys (new ones where none still works); also the id
    of the first, which owns the demo reports."""
    seeded, first_id = [], 0
    for name in DEMO_PARTNERS:
        existing = session.scalar(select(Partner).where(Partner.name == name))
        key = kept.get(name)
        if existing is None:
            created, key = partners.create(
                who=DEMO_SEEDER,
                session=session,
                name=name,
                scopes=["reports:write", "reports:read", "content:read", "webhooks:manage"],
            )
            partner_id, public_id = created.id, created.public_id
        else:
            if not _still_valid_key(session, existing, key):
                _, key, _ = partners.rotate_key(
                    session=session, who=DEMO_SEEDER, public_id=existing.public_id
                )
            partner_id, public_id = existing.id, existing.public_id
        seeded.append({"id": public_id, "name": name, "api_key": key})
        first_id = first_id or partner_id
    return seeded, first_id


def _staff_account(
    session: Session, name: str, role: str, kept: dict[str, Any]
) -> tuple[Operator, dict[str, Any]]:
    """One demo staff account with its kept token and password, or new ones."""
    account = session.scalar(select(Operator).where(Operator.name == name))
    token, password = kept.get("token"), kept.get("password")
    if account is None:
        account, token = operators.create(session=session, who=DEMO_SEEDER, name=name, role=role)
    elif token is None or account.token_hash != credentials.digest(token):
        token = operators.rotate_token(session=session, who=DEMO_SEEDER, operator=account)
    if not (password and credentials.verify_password(account.password_hash, password)):
        password = f"demo-{secrets.token_urlsafe(12)}"
        operators.set_password(
            session=session, who=DEMO_SEEDER, operator=account, password=password
        )
    return account, {"name": name, "role": role, "token": token, "password": password}


def _seed_staff(session: Session, kept: dict[str, Any]) -> tuple[list[dict[str, Any]], Who]:
    """The demo staff accounts with their tokens and console passwords; also the admin, who
    files the shelters."""
    seeded, admin = [], DEMO_SEEDER
    for name, role in DEMO_STAFF:
        account, entry = _staff_account(session, name, role, kept.get(name) or {})
        seeded.append(entry)
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
    """Create or refresh the demo accounts, shelters and reports; returns the credentials,
    the same as the last run's where they still work, and keeps them for the next run."""
    kept = _kept(runtime)
    with runtime.db.unit() as session:
        partner_credentials, owner_id = _seed_partners(session, kept.get("partners") or {})
        staff_credentials, admin = _seed_staff(session, kept.get("staff") or {})
        _seed_shelters(session, admin)
        _seed_reports(session, runtime, owner_id)
    _keep(
        runtime,
        {
            "partners": {p["name"]: p["api_key"] for p in partner_credentials},
            "staff": {
                s["name"]: {"token": s["token"], "password": s["password"]}
                for s in staff_credentials
            },
        },
    )
    return {"partners": partner_credentials, "staff": staff_credentials}


def banner(url: str, credentials_path: Path, found: dict[str, Any]) -> str:
    """What the demo prints once it is ready, apart from the log lines."""
    partner_keys = found["partners"]
    staff = found["staff"]
    rule = "=" * 72
    return "\n".join(
        [
            "",
            rule,
            "Vigie demo (SQLite, API + worker in one process)",
            f"  API:      {url}/v1",
            f"  API docs: {url}/docs",
            f"  Console:  {url}/console/",
            "",
            "Partner API keys (Authorization: Bearer <key>):",
            *[f"  {p['name']:<26} {p['api_key']}" for p in partner_keys],
            "",
            "MIPROF staff tokens:",
            *[f"  {s['role']:<11} {s['name']:<20} {s['token']}" for s in staff],
            "",
            f"Console ({url}/console/), Identifiant and Mot de passe:",
            *[f"  {s['role']:<11} {s['name']:<20} {s['password']}" for s in staff],
            "",
            f"Kept in {credentials_path}: the same keys at the next start.",
            "Webhooks: receivers on this machine are allowed (http://127.0.0.1:<port>/…);",
            "  development only (see docs/webhooks.md, 'Receive webhooks on your laptop').",
            "",
            "For the guides' examples, in another terminal:",
            f"  export VIGIE_URL={url} KEY={partner_keys[0]['api_key']}",
            f"Try: curl -s {url}/v1/indicators | head -c 300",
            "Stop with Ctrl-C.",
            rule,
            "",
        ]
    )


def run(app: Flask, *, host: str, port: int, out: TextIO) -> None:
    runtime: Runtime = app.extensions["vigie"]
    migrate.upgrade(runtime.db.engine)
    found = seed(runtime)
    content.load_seed(runtime)
    # Bound before the banner says so: whoever reads "Stop with Ctrl-C." can connect at once.
    server = make_server(host, port, app, threaded=True)
    # The start-up log lines are all out before the banner, and the worker (whose log lines
    # would come in the middle of it) starts only after it.
    sys.stderr.flush()
    out.write(banner(f"http://{host}:{port}", credentials_file(runtime), found))
    out.flush()
    stop = threading.Event()
    background = threading.Thread(target=worker.run, args=(runtime, stop), daemon=True)
    background.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        background.join(timeout=30)

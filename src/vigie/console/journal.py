"""Journal: the audit log for supervisors, filtered by report and by staff member, and the
verdict on its hash chain.

The entries are `audit.service.list_`, the function behind GET /v1/audit, with the filters
read by the API's schema and the API's cursor for the next page (oldest first, as the API
lists them). The verdict is `audit.service.verify`, what `vigie audit verify` runs: the
whole chain walked from the first entry, so a modified, inserted or deleted row shows. It
reads every entry (about 25 s for 100,000 entries on the 2-core test machine under load), so
the page runs it when the supervisor asks (`verify=1`, a link on the page), not on every
visit nor on every next page.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from vigie import web
from vigie.audit import service as audit
from vigie.audit.models import AuditEntry
from vigie.audit.schemas import AuditArgsSchema
from vigie.console import security
from vigie.console.blueprint import blp
from vigie.console.filters import parse_filters
from vigie.errors import Problem
from vigie.operators import service as operators
from vigie.operators.models import Operator

PAGE_SIZE = 50
FILTER_NAMES = ("report_id", "actor")
BAD_CURSOR = "Le lien de page n'est plus valide ; le journal est affiché depuis le début."
ACTIONS = {
    "operator.created": "Compte créé",
    "operator.disabled": "Compte désactivé",
    "operator.logged_in": "Connexion à la console",
    "operator.logged_out": "Déconnexion de la console",
    "operator.password_set": "Mot de passe fixé",
    "operator.token_rotated": "Nouveau jeton d'API",
    "partner.created": "Partenaire créé",
    "partner.embed_origins_set": "Origines du formulaire intégré changées",
    "partner.key_rotated": "Nouvelle clé de partenaire",
    "partner.revoked": "Partenaire révoqué",
    "referral.created": "Orientation",
    "referral.outcome": "Suite d'une orientation",
    "report.claimed": "Prise en charge",
    "report.claim_taken_over": "Reprise d'une prise en charge",
    "report.released": "Prise en charge libérée",
    "report.transition": "Changement de statut",
    "report.note_added": "Note ajoutée",
    "report.read": "Signalement consulté",
    "report.escalated": "Retard signalé aux superviseurs",
    "report.purged": "Données personnelles effacées",
    "shelter.created": "Hébergement créé",
    "shelter.updated": "Hébergement modifié",
    "shelter_network.created": "Réseau d'hébergement créé",
    "shelter_network.intake_changed": "Adresse de réception d'un réseau changée",
    "shelter_network.revoked": "Réseau d'hébergement révoqué",
}
REASONS = {
    "an entry is missing": "une entrée manque (supprimée, ou numéro sauté)",
    "previous hash differs": "l'empreinte de l'entrée précédente ne correspond pas",
    "content was modified": "son contenu a été modifié",
}
ACTOR_KINDS = {"system": "Tâche automatique", "cli": "Commande vigie", "network": "Réseau"}


def actor_name(actor: str, staff: dict[str, Operator]) -> str:
    """A staff member's name for their id; a job, a command or a network said as such."""
    if actor in staff:
        return staff[actor].name
    kind, _, name = actor.partition(":")
    return f"{ACTOR_KINDS[kind]} {name}" if name and kind in ACTOR_KINDS else actor


def _row(entry: AuditEntry, staff: dict[str, Operator]) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "who": actor_name(entry.actor, staff),
        "role": security.ROLE_LABELS.get(entry.actor_role or "", entry.actor_role),
        "action": ACTIONS.get(entry.action, entry.action),
        "code": entry.action,
        "report_id": entry.report_id,
        "target": actor_name(entry.target, staff) if entry.target else None,
        "details": sorted(entry.details.items()),
    }


def _verdict() -> dict[str, Any]:
    found = audit.verify(session=web.session())
    reason = REASONS.get(found.reason or "", found.reason)
    return {
        "ok": found.ok,
        "entries": found.entries,
        "head": found.head,
        "at": found.broken_at,
        "reason": reason,
    }


@blp.get("/journal")
@security.allow(*security.SUPERVISE)
def journal_page() -> Any:
    args, errors = parse_filters(AuditArgsSchema(), (*FILTER_NAMES, "cursor"))
    session = web.session()
    wanted = {k: args.get(k) for k in FILTER_NAMES}
    try:
        page = audit.list_(
            session=session, **wanted, action=None, limit=PAGE_SIZE, cursor=args.get("cursor")
        )
    except Problem:  # a stale or edited cursor: start from the first entry, and say so
        errors.append(BAD_CURSOR)
        page = audit.list_(session=session, **wanted, action=None, limit=PAGE_SIZE, cursor=None)
    accounts = operators.list_(session=session)
    staff = {a.public_id: a for a in accounts}
    shown = {k: v for k, v in wanted.items() if v is not None}
    return render_template(
        "console/journal.html",
        rows=[_row(entry, staff) for entry in page.items],
        errors=errors,
        filters=shown,
        paged=bool(args.get("cursor")),
        staff=sorted(accounts, key=lambda a: a.name.casefold()),
        next_url=(
            url_for("console.journal_page", **shown, cursor=page.next_cursor)
            if page.next_cursor
            else None
        ),
        verdict=_verdict() if request.args.get("verify") == "1" else None,
        verify_url=url_for("console.journal_page", **shown, verify="1", _anchor="integrite"),
    )

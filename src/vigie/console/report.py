"""Un signalement: the whole report and the actions its status and claim allow.

Reading the page is `triage.service.detail`, the audited read behind
GET /v1/triage/reports/{id}. Each action is a POST form calling the service function of the
matching API operation, with its input parsed by the same schema; then a redirect back to
the page (post/redirect/get), with the outcome or the service's error said in French.
Which buttons the page shows is presentation only: the services decide, and a refusal they
raise is what the staff member reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request, url_for
from sqlalchemy.orm import Session

from vigie import web
from vigie.console import labels, security
from vigie.console.blueprint import blp
from vigie.console.forms import act
from vigie.db import get_or_404
from vigie.reports.models import Report
from vigie.triage import referrals
from vigie.triage import service as triage
from vigie.triage.models import CLOSURE_REASONS, MOVES
from vigie.triage.schemas import (
    NoteArgsSchema,
    ReferralArgsSchema,
    TransitionArgsSchema,
)

SUGGESTIONS = 5


def _actions(detail: dict[str, Any]) -> dict[str, bool]:
    """Which forms the page offers this staff member, from the status and the live claim."""
    user = security.current()
    holder = detail["claim"].holder
    mine = holder is not None and holder.id == user.id
    other = holder is not None and not mine
    supervisor = user.has_role(*security.SUPERVISE)
    status = detail["status"]
    is_open = status != "closed"
    return {
        "mine": mine,
        "other": other,
        "claim": is_open and holder is None,
        "renew": is_open and mine,
        "release": mine or (other and supervisor),
        "takeover": is_open and other and supervisor,
        "review": is_open and mine and "in_review" in MOVES[status],
        "orient": is_open and mine,
        "close": mine and "closed" in MOVES[status],
        "reopen": not is_open and supervisor,
        "note": detail["purged_at"] is None,
    }


@blp.get("/reports/<string:report_id>")
@security.allow(*security.TRIAGE)
def report_page(report_id: str) -> Any:
    rt = web.runtime()
    with rt.db.unit() as session:  # the read is audited, as the API's detail read is
        detail = triage.detail(
            session=session, crypto=rt.crypto, report_id=report_id, who=security.who()
        )
    actions = _actions(detail)
    suggestions = []
    if detail["status"] != "closed":
        suggestions = referrals.suggestions(
            session=web.session(), report_id=report_id, shelter_type=None, limit=SUGGESTIONS
        )
    return render_template(
        "console/report.html",
        report=detail,
        actions=actions,
        suggestions=suggestions,
        closure_reasons=[(c, labels.CLOSURE_REASONS[c]) for c in CLOSURE_REASONS],
        is_strong=labels.is_strong,
    )


def _act(report_id: str, action: Callable[[Session], str]) -> Any:
    """Run one action on the report, then back to its page saying what happened."""
    return act(url_for("console.report_page", report_id=report_id), action)


def _minutes() -> int:
    return web.runtime().config.claim_minutes


def _claim(session: Session, report_id: str, *, takeover: bool) -> triage.Claim:
    return triage.claim(
        session=session,
        report_id=report_id,
        who=security.who(),
        takeover=takeover,
        minutes=_minutes(),
    )


def _move(session: Session, report_id: str, args: dict[str, Any]) -> triage.ReportState:
    loaded = TransitionArgsSchema().load(args)
    return triage.transition(
        session=session,
        crypto=web.runtime().crypto,
        report_id=report_id,
        who=security.who(),
        **loaded,
    )


def _form(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


@blp.post("/reports/<string:report_id>/claim")
@security.allow(*security.TRIAGE)
def claim(report_id: str) -> Any:
    def run(session: Session) -> str:
        taken = _claim(session, report_id, takeover=False)
        return f"Vous avez pris ce signalement en charge jusqu'à {labels.hour(taken.expires_at)}."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/takeover")
@security.allow(*security.SUPERVISE)
def takeover(report_id: str) -> Any:
    def run(session: Session) -> str:
        taken = _claim(session, report_id, takeover=True)
        return f"Vous avez repris ce signalement en charge jusqu'à {labels.hour(taken.expires_at)}."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/release")
@security.allow(*security.TRIAGE)
def release(report_id: str) -> Any:
    def run(session: Session) -> str:
        triage.release(session=session, report_id=report_id, who=security.who())
        return "La prise en charge est libérée."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/review")
@security.allow(*security.TRIAGE)
def review(report_id: str) -> Any:
    def run(session: Session) -> str:
        _move(session, report_id, {"to": "in_review"})
        return "Le signalement est en examen."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/close")
@security.allow(*security.TRIAGE)
def close(report_id: str) -> Any:
    def run(session: Session) -> str:
        args = {
            "to": "closed",
            "closure_reason": _form("closure_reason"),
            "duplicate_of": _form("duplicate_of"),
            "comment": _form("comment"),
        }
        _move(session, report_id, args)
        return "Le signalement est clos."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/reopen")
@security.allow(*security.SUPERVISE)
def reopen(report_id: str) -> Any:
    """Reopening needs the claim, as the API's move does: the supervisor takes it first."""

    def run(session: Session) -> str:
        current = triage.claim_of(session, get_or_404(session, Report, report_id, what="report"))
        if current.holder is None or current.holder.id != security.current().id:
            _claim(session, report_id, takeover=True)
        _move(session, report_id, {"to": "in_review", "comment": _form("comment")})
        return "Le signalement est rouvert et en examen ; vous l'avez en charge."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/referrals")
@security.allow(*security.TRIAGE)
def refer(report_id: str) -> Any:
    def run(session: Session) -> str:
        args = ReferralArgsSchema().load(
            {
                "target_type": _form("target_type"),
                "shelter_id": _form("shelter_id"),
                "note": _form("note"),
            }
        )
        made = referrals.refer(
            session=session,
            crypto=web.runtime().crypto,
            report_id=report_id,
            who=security.who(),
            **args,
        )
        where = (
            made.shelter.name
            if made.shelter
            else labels.label(made.target_type, labels.SHELTER_TYPES)
        )
        return f"Orientation enregistrée vers {where}. Le partenaire voit « suite donnée »."

    return _act(report_id, run)


@blp.post("/reports/<string:report_id>/notes")
@security.allow(*security.TRIAGE)
def note(report_id: str) -> Any:
    def run(session: Session) -> str:
        args = NoteArgsSchema().load({"body": request.form.get("body", "")})
        triage.add_note(
            session=session,
            crypto=web.runtime().crypto,
            report_id=report_id,
            who=security.who(),
            **args,
        )
        return "Note ajoutée."

    return _act(report_id, run)

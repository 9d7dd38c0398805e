"""Operator endpoints: the queue, claims, moves, notes and the full report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from vigie import auth, web
from vigie.pagination import next_link
from vigie.triage import service
from vigie.triage.schemas import (
    ClaimArgsSchema,
    ClaimSchema,
    NoteArgsSchema,
    NoteSchema,
    QueueArgsSchema,
    QueueSchema,
    ReportDetailSchema,
    ReportStateSchema,
    TransitionArgsSchema,
)

blp = Blueprint(
    "triage", __name__, url_prefix="/v1/triage", description="Triage of reports (MIPROF staff)"
)

CLAIM_CONFLICT = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "Another operator holds the claim on this report.",
    "holder": {"id": "opr_4k2m7q9x3v5b8n1c", "name": "Camille"},
    "expires_at": "2026-11-26T20:15:00+00:00",
}
MOVE_CONFLICT = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "A report cannot move from received to referred.",
    "status_now": "received",
    "allowed": ["in_review", "closed"],
}


def _claim_minutes() -> int:
    return web.runtime().config.claim_minutes


@blp.route("/queue")
class Queue(MethodView):
    @auth.staff(blp, "operator")
    @blp.arguments(QueueArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, QueueSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, **args: Any) -> Any:
        """The triage queue

        Open reports by priority, then due time (most overdue first), then age.
        `counts` covers the whole open queue, whatever the filters.
        """
        session = web.session()
        filters = service.QueueFilters(
            **{k: args.get(k) for k in service.QueueFilters.__dataclass_fields__}
        )
        items, cursor = service.queue(
            session=session, filters=filters, limit=args["limit"], cursor=args.get("cursor")
        )
        counts = service.queue_counts(session=session)
        return {"items": items, "counts": counts}, 200, next_link(cursor)


@blp.route("/reports/<string:report_id>")
class ReportDetail(MethodView):
    @auth.staff(blp, "operator")
    @blp.response(200, ReportDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str) -> Any:
        """Read a report in full

        Decrypted fields, related reports, notes, referrals and history. Every read is audited.
        """
        rt = web.runtime()
        with rt.db.unit() as session:  # a read that writes its audit entry
            return service.detail(
                session=session, crypto=rt.crypto, report_id=report_id, who=auth.who()
            )


@blp.route("/reports/<string:report_id>/claim")
class Claim(MethodView):
    @auth.staff(blp, "operator")
    @blp.arguments(ClaimArgsSchema)
    @blp.response(200, ClaimSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", example=CLAIM_CONFLICT)
    def post(self, args: dict[str, Any], report_id: str) -> Any:
        """Claim a report (or renew your claim)

        The lease lasts `claim_minutes` (15 by default). Another operator's live claim is a
        409 naming the holder and expiry; a supervisor may send `takeover: true`.
        """
        session = web.session()
        report = service.claim(
            session=session,
            report_id=report_id,
            who=auth.who(),
            takeover=args["takeover"],
            minutes=_claim_minutes(),
        )
        body = service.claim_view(session, report)
        session.commit()
        return body


@blp.route("/reports/<string:report_id>/release")
class Release(MethodView):
    @auth.staff(blp, "operator")
    @blp.response(200, ClaimSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", example=CLAIM_CONFLICT)
    def post(self, report_id: str) -> Any:
        """Release your claim on a report"""
        session = web.session()
        report = service.release(session=session, report_id=report_id, who=auth.who())
        body = service.claim_view(session, report)
        session.commit()
        return body


@blp.route("/reports/<string:report_id>/transitions")
class Transitions(MethodView):
    @auth.staff(blp, "operator")
    @blp.arguments(TransitionArgsSchema, example={"to": "in_review", "comment": "Pris en charge"})
    @blp.response(200, ReportStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", example=MOVE_CONFLICT)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, args: dict[str, Any], report_id: str) -> Any:
        """Move a report to another status

        received → in_review | closed; in_review → closed (referred comes with a referral);
        referred → closed; closed → in_review (supervisors). You must hold the claim.
        Closing needs `closure_reason`, and `duplicate_of` with `duplicate`.
        """
        rt, session = web.runtime(), web.session()
        report = service.transition(
            session=session, crypto=rt.crypto, report_id=report_id, who=auth.who(), **args
        )
        body = service.summary(session, report)
        session.commit()
        return body


@blp.route("/reports/<string:report_id>/notes")
class Notes(MethodView):
    @auth.staff(blp, "operator")
    @blp.arguments(NoteArgsSchema)
    @blp.response(201, NoteSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, args: dict[str, Any], report_id: str) -> Any:
        """Add a note to a report

        Encrypted at rest, never visible to partners. No claim needed.
        """
        rt, session = web.runtime(), web.session()
        note = service.add_note(
            session=session,
            crypto=rt.crypto,
            report_id=report_id,
            who=auth.who(),
            body=args["body"],
        )
        session.commit()
        return note, 201

"""Operator endpoints: the queue, claims, moves, notes, the full report and referrals; and the
one endpoint of shelter networks: the outcomes of the referrals forwarded to them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from vigie import auth, web
from vigie.pagination import next_link
from vigie.shelters.schemas import SuggestionSchema
from vigie.triage import referrals, service
from vigie.triage.schemas import (
    ClaimArgsSchema,
    ClaimSchema,
    NetworkOutcomeArgsSchema,
    NetworkOutcomeSchema,
    NoteArgsSchema,
    NoteSchema,
    QueueArgsSchema,
    QueueSchema,
    ReferralArgsSchema,
    ReferralOutcomeArgsSchema,
    ReferralSchema,
    ReportDetailSchema,
    ReportStateSchema,
    SuggestionArgsSchema,
    TransitionArgsSchema,
)
from vigie.web import Blueprint

blp = Blueprint(
    "triage", __name__, url_prefix="/v1/triage", description="Triage of reports (MIPROF staff)"
)
# Its own blueprint (and so its own tag in the API documentation), under the triage paths.
referrals_blp = Blueprint(
    "referrals",
    __name__,
    url_prefix="/v1/triage/reports",
    description="Referrals (orientation) of a report to shelters and services",
)

# A fixed path: its own blueprint beside the inbound adapters' /v1/integrations/{adapter}/….
network_blp = Blueprint(
    "shelter_network",
    __name__,
    url_prefix="/v1/integrations/shelter_network",
    description="Shelter networks: outcomes of the referrals forwarded to them",
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
    @blp.doc(operationId="listTriageQueue")
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
        page = service.queue(
            session=session, filters=filters, limit=args["limit"], cursor=args.get("cursor")
        )
        counts = service.queue_counts(session=session)
        return {"items": page.items, "counts": counts}, 200, next_link(page.next_cursor)


@blp.route("/reports/<string:report_id>")
class ReportDetail(MethodView):
    @auth.staff(blp, "operator")
    @blp.doc(operationId="getTriageReport")
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
    @blp.doc(operationId="claimReport")
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
        claim = service.claim(
            session=session,
            report_id=report_id,
            who=auth.who(),
            takeover=args["takeover"],
            minutes=_claim_minutes(),
        )
        session.commit()
        return claim


@blp.route("/reports/<string:report_id>/release")
class Release(MethodView):
    @auth.staff(blp, "operator")
    @blp.doc(operationId="releaseReport")
    @blp.response(200, ClaimSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", example=CLAIM_CONFLICT)
    def post(self, report_id: str) -> Any:
        """Release your claim on a report"""
        session = web.session()
        claim = service.release(session=session, report_id=report_id, who=auth.who())
        session.commit()
        return claim


@blp.route("/reports/<string:report_id>/transitions")
class Transitions(MethodView):
    @auth.staff(blp, "operator")
    @blp.doc(operationId="changeReportStatus")
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
        state = service.transition(
            session=session, crypto=rt.crypto, report_id=report_id, who=auth.who(), **args
        )
        session.commit()
        return state


@blp.route("/reports/<string:report_id>/notes")
class Notes(MethodView):
    @auth.staff(blp, "operator")
    @blp.doc(operationId="addReportNote")
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


@referrals_blp.route("/<string:report_id>/referrals")
class Referrals(MethodView):
    @auth.staff(referrals_blp, "operator")
    @referrals_blp.doc(operationId="listReferrals")
    @referrals_blp.response(200, ReferralSchema(many=True))
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str) -> Any:
        """List a report's referrals"""
        rt = web.runtime()
        return referrals.referrals_for(session=web.session(), crypto=rt.crypto, report_id=report_id)

    @auth.staff(referrals_blp, "operator")
    @referrals_blp.doc(operationId="createReferral")
    @referrals_blp.arguments(
        ReferralArgsSchema,
        example={"target_type": "emergency_shelter", "shelter_id": "shl_...", "note": "2 places"},
    )
    @referrals_blp.response(201, ReferralSchema)
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    @referrals_blp.alt_response(409, response="CONFLICT")
    @referrals_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, args: dict[str, Any], report_id: str) -> Any:
        """Refer the people of a report to a shelter or service

        Moves the report to `referred` (partners see `actioned`), takes one place from the
        shelter's declared availability and writes a `referral.created` event for forwarding.
        You must hold the claim.
        """
        rt, session = web.runtime(), web.session()
        referral = referrals.refer(
            session=session, crypto=rt.crypto, report_id=report_id, who=auth.who(), **args
        )
        session.commit()
        return referral, 201


@referrals_blp.route("/<string:report_id>/referrals/<string:referral_id>")
class ReferralItem(MethodView):
    @auth.staff(referrals_blp, "operator")
    @referrals_blp.doc(operationId="updateReferral")
    @referrals_blp.arguments(ReferralOutcomeArgsSchema, example={"status": "accepted"})
    @referrals_blp.response(200, ReferralSchema)
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    @referrals_blp.alt_response(409, response="CONFLICT")
    def patch(self, args: dict[str, Any], report_id: str, referral_id: str) -> Any:
        """Record a referral's outcome

        pending → accepted | declined | no_capacity; accepted → completed. A refusal may say
        why (`reason`). When the last referral in force of a referred report is refused, the
        report goes back to in_review (the partner sees in_review again).
        """
        rt, session = web.runtime(), web.session()
        referral = referrals.record_outcome(
            session=session,
            crypto=rt.crypto,
            report_id=report_id,
            referral_id=referral_id,
            who=auth.who(),
            status=args["status"],
            reason=args["reason"],
        )
        session.commit()
        return referral


@referrals_blp.route("/<string:report_id>/shelter-suggestions")
class Suggestions(MethodView):
    @auth.staff(referrals_blp, "operator")
    @referrals_blp.doc(operationId="listShelterSuggestions")
    @referrals_blp.arguments(SuggestionArgsSchema, location="query", as_kwargs=True)
    @referrals_blp.response(200, SuggestionSchema(many=True))
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str, **args: Any) -> Any:
        """Shelters ranked for a report

        By département served, acceptance of the people concerned (minors, families),
        then available capacity. `reasons` explains each score.
        """
        return referrals.suggestions(
            session=web.session(),
            report_id=report_id,
            shelter_type=args.get("type"),
            limit=args["limit"],
        )


NETWORK_CONFLICT = {
    "type": "/problems/conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "This referral is refused; it cannot become accepted.",
    "outcome_now": "refused",
    "allowed": [],
}


@network_blp.route("/outcomes")
class NetworkOutcomes(MethodView):
    @auth.network(network_blp)
    @network_blp.arguments(
        NetworkOutcomeArgsSchema,
        example={"referral_id": "ref_9k3m2q7x4v1b", "outcome": "refused", "reason": "no_capacity"},
    )
    @network_blp.response(200, NetworkOutcomeSchema)
    @network_blp.alt_response(404, response="NOT_FOUND")
    @network_blp.alt_response(409, response="CONFLICT", example=NETWORK_CONFLICT)
    @network_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @network_blp.doc(operationId="recordShelterNetworkOutcome")
    def post(self, args: dict[str, Any]) -> Any:
        """Report the outcome of a referral forwarded to your network

        `accepted`, `refused` (with a `reason`) or, after accepted, `completed`. Only the
        referrals forwarded to your network are found (others are 404). Sending the outcome
        the referral already has changes nothing. The referral is updated as MIPROF staff
        would update it, and audited under your network's id.
        """
        rt, session = web.runtime(), web.session()
        referral = referrals.record_network_outcome(
            session=session,
            crypto=rt.crypto,
            network_id=auth.current_network().id,
            who=auth.who(),
            **args,
        )
        session.commit()
        return referral

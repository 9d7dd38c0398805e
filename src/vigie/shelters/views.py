"""The shelter directory (admins write, operators read) and referrals of a report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from vigie import auth, web
from vigie.shelters import service
from vigie.shelters.schemas import (
    ReferralArgsSchema,
    ReferralOutcomeArgsSchema,
    ReferralSchema,
    ShelterListArgsSchema,
    ShelterPatchSchema,
    ShelterSchema,
    ShelterWriteSchema,
    SuggestionArgsSchema,
    SuggestionSchema,
)

blp = Blueprint("shelters", __name__, url_prefix="/v1/shelters", description="Shelter directory")
referrals_blp = Blueprint(
    "referrals",
    __name__,
    url_prefix="/v1/triage/reports",
    description="Referrals (orientation) of a report to shelters and services",
)

SHELTER_EXAMPLE = {
    "name": "SIAO 13 - 115",
    "type": "emergency_shelter",
    "departments": ["13"],
    "accepts": ["women", "families", "minors"],
    "languages": ["fr", "en", "ro"],
    "capacity_total": 40,
    "capacity_available": 6,
    "contact": {"name": "Permanence SIAO", "phone": "115"},
    "integration": None,
}


@blp.route("")
class Shelters(MethodView):
    @auth.staff(blp, "operator", "admin")
    @blp.arguments(ShelterListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, ShelterSchema(many=True))
    def get(self, **args: Any) -> Any:
        """List shelters"""
        rows = service.list_(
            session=web.session(),
            department=args.get("department"),
            type=args.get("type"),
            include_archived=args["include_archived"],
        )
        return [service.view(s) for s in rows]

    @auth.staff(blp, "admin")
    @blp.arguments(ShelterWriteSchema, example=SHELTER_EXAMPLE)
    @blp.response(201, ShelterSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a shelter (admins)"""
        session = web.session()
        shelter = service.create(session=session, who=auth.who(), data=data)
        session.commit()
        return service.view(shelter), 201, {"Location": f"/v1/shelters/{shelter.public_id}"}


@blp.route("/<string:shelter_id>")
class ShelterItem(MethodView):
    @auth.staff(blp, "operator", "admin")
    @blp.response(200, ShelterSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, shelter_id: str) -> Any:
        """Read a shelter"""
        return service.view(service.get(session=web.session(), shelter_id=shelter_id))

    @auth.staff(blp, "admin")
    @blp.arguments(ShelterPatchSchema, example={"capacity_available": 3})
    @blp.response(200, ShelterSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, data: dict[str, Any], shelter_id: str) -> Any:
        """Update a shelter (admins), e.g. its declared availability

        Sending `capacity_available` refreshes `capacity_updated_at`, even with the same figure.
        """
        session = web.session()
        shelter = service.update(session=session, who=auth.who(), shelter_id=shelter_id, data=data)
        session.commit()
        return service.view(shelter)


@referrals_blp.route("/<string:report_id>/referrals")
class Referrals(MethodView):
    @auth.staff(referrals_blp, "operator")
    @referrals_blp.response(200, ReferralSchema(many=True))
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str) -> Any:
        """List a report's referrals"""
        from vigie.triage.service import get_report

        rt, session = web.runtime(), web.session()
        report = get_report(session=session, report_id=report_id)
        return service.referrals_for(session=session, crypto=rt.crypto, report=report)

    @auth.staff(referrals_blp, "operator")
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
        referral = service.refer(
            session=session, crypto=rt.crypto, report_id=report_id, who=auth.who(), **args
        )
        body = service.referral_view(session, rt.crypto, referral)
        session.commit()
        return body, 201


@referrals_blp.route("/<string:report_id>/referrals/<string:referral_id>")
class ReferralItem(MethodView):
    @auth.staff(referrals_blp, "operator")
    @referrals_blp.arguments(ReferralOutcomeArgsSchema, example={"status": "accepted"})
    @referrals_blp.response(200, ReferralSchema)
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    @referrals_blp.alt_response(409, response="CONFLICT")
    def patch(self, args: dict[str, Any], report_id: str, referral_id: str) -> Any:
        """Record a referral's outcome

        pending → accepted | declined | no_capacity; accepted → completed.
        """
        rt, session = web.runtime(), web.session()
        referral = service.record_outcome(
            session=session,
            report_id=report_id,
            referral_id=referral_id,
            who=auth.who(),
            status=args["status"],
        )
        body = service.referral_view(session, rt.crypto, referral)
        session.commit()
        return body


@referrals_blp.route("/<string:report_id>/shelter-suggestions")
class Suggestions(MethodView):
    @auth.staff(referrals_blp, "operator")
    @referrals_blp.arguments(SuggestionArgsSchema, location="query", as_kwargs=True)
    @referrals_blp.response(200, SuggestionSchema(many=True))
    @referrals_blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str, **args: Any) -> Any:
        """Shelters ranked for a report

        By département served, acceptance of the people concerned (minors, families),
        then available capacity. `reasons` explains each score.
        """
        return service.suggestions(
            session=web.session(), report_id=report_id, type=args.get("type"), limit=args["limit"]
        )

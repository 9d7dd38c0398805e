"""The shelter directory: admins write, operators read."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from vigie import auth, web
from vigie.shelters import service
from vigie.shelters.schemas import (
    ShelterListArgsSchema,
    ShelterPatchSchema,
    ShelterSchema,
    ShelterWriteSchema,
)
from vigie.web import Blueprint

blp = Blueprint("shelters", __name__, url_prefix="/v1/shelters", description="Shelter directory")

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
    @blp.doc(operationId="listShelters")
    @blp.arguments(ShelterListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, ShelterSchema(many=True))
    def get(self, **args: Any) -> Any:
        """List shelters"""
        return service.list_(
            session=web.session(),
            department=args.get("department"),
            shelter_type=args.get("type"),
            include_archived=args["include_archived"],
        )

    @auth.staff(blp, "admin")
    @blp.doc(operationId="createShelter")
    @blp.arguments(ShelterWriteSchema, example=SHELTER_EXAMPLE)
    @blp.response(201, ShelterSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a shelter (admins)"""
        session = web.session()
        shelter = service.create(session=session, who=auth.who(), data=data)
        session.commit()
        return shelter, 201, {"Location": f"/v1/shelters/{shelter.public_id}"}


@blp.route("/<string:shelter_id>")
class ShelterItem(MethodView):
    @auth.staff(blp, "operator", "admin")
    @blp.doc(operationId="getShelter")
    @blp.response(200, ShelterSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, shelter_id: str) -> Any:
        """Read a shelter"""
        return service.get(session=web.session(), shelter_id=shelter_id)

    @auth.staff(blp, "admin")
    @blp.doc(operationId="updateShelter")
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
        return shelter

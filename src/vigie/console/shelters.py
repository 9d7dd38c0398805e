"""Hébergements: the shelter directory with declared capacity; admins update it in place.

Reading is `shelters.service.list_`, the function behind GET /v1/shelters (operators,
supervisors and admins). The capacity form is the API's PATCH /v1/shelters/{id} with
`capacity_available` and `capacity_total`: the same schema parses it, `service.update`
changes the shelter and writes the same `shelter.updated` audit entry.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from sqlalchemy.orm import Session

from vigie import web
from vigie.console import forms, labels, security
from vigie.console.blueprint import blp
from vigie.shelters import service as shelters
from vigie.shelters.schemas import ShelterPatchSchema

READERS = ("operator", "admin")  # as GET /v1/shelters; a supervisor holds the operator role
WRITERS = ("admin",)
CAPACITY_FIELDS = ("capacity_available", "capacity_total")


@blp.get("/shelters")
@security.allow(*READERS)
def shelters_page() -> Any:
    directory = shelters.list_(
        session=web.session(), department=None, shelter_type=None, include_archived=False
    )
    return render_template(
        "console/shelters.html",
        shelters=directory,
        can_edit=security.current().has_role(*WRITERS),
    )


@blp.post("/shelters/<string:shelter_id>/capacity")
@security.allow(*WRITERS)
def shelter_capacity(shelter_id: str) -> Any:
    def run(session: Session) -> str:
        data = ShelterPatchSchema().load({k: forms.text(request.form, k) for k in CAPACITY_FIELDS})
        shelter = shelters.update(
            session=session, who=security.who(), shelter_id=shelter_id, data=data
        )
        return (
            f"{shelter.name} : {shelter.capacity_available} place(s) disponible(s) sur "
            f"{shelter.capacity_total}, déclarée(s) le {labels.when(shelter.capacity_updated_at)}."
        )

    return forms.act(url_for("console.shelters_page"), run)

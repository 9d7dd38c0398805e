"""GET /v1/audit for supervisors, and `who()`: the audit author of the current request."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from vigie import auth, web
from vigie.audit import service
from vigie.audit.schemas import AuditArgsSchema, AuditEntrySchema
from vigie.audit.service import Who
from vigie.pagination import next_link

blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="Audit log (supervisors)")


def who() -> Who:
    """The staff member behind this request, with the request id, for audit entries."""
    operator = auth.current_operator()
    return Who(
        actor=operator.public_id,
        role=operator.role,
        request_id=g.get("request_id"),
        operator_id=operator.id,
    )


@blp.route("")
class AuditLog(MethodView):
    @auth.staff(blp, "supervisor")
    @blp.arguments(AuditArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """Read the audit log

        Oldest first; filter by report, actor or action. Follow the `Link: rel="next"` header.
        """
        rows, cursor = service.list_(
            session=web.session(),
            report_id=args.get("report_id"),
            actor=args.get("actor"),
            action=args.get("action"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return [service.view(r) for r in rows], 200, next_link(cursor)

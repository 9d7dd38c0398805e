"""GET /v1/audit for supervisors."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from vigie import auth, web
from vigie.audit import service
from vigie.audit.schemas import AuditArgsSchema, AuditEntrySchema
from vigie.pagination import next_link
from vigie.web import Blueprint

blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="Audit log (supervisors)")


@blp.route("")
class AuditLog(MethodView):
    @auth.staff(blp, "supervisor")
    @blp.doc(operationId="listAuditEntries")
    @blp.arguments(AuditArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """Read the audit log

        Oldest first; filter by report, actor or action. Follow the `Link: rel="next"` header.
        """
        page = service.list_(
            session=web.session(),
            report_id=args.get("report_id"),
            actor=args.get("actor"),
            action=args.get("action"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page.items, 200, next_link(page.next_cursor)

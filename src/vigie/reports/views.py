"""Partner endpoints for reports and the vocabulary partners build their forms from."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from vigie import auth, web
from vigie.pagination import PageArgsSchema, next_link
from vigie.reports import service
from vigie.reports.examples import PROBLEM_DUPLICATE, RECEIPT_EXAMPLE, STAY_REPORT_EXAMPLE
from vigie.reports.models import COARSE_STATUSES
from vigie.reports.schemas import PartnerReportSchema, ReportReceiptSchema, ReportSchema
from vigie.reports.vocabulary import EXPLOITATION, INDICATORS, REPORTER_ROLES

blp = Blueprint(
    "reports", __name__, url_prefix="/v1/reports", description="Reports sent by partners"
)
vocabulary_blp = Blueprint(
    "indicators", __name__, url_prefix="/v1", description="Vocabulary for partners' forms"
)


class ReportListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(COARSE_STATUSES))
    updated_since = fields.AwareDateTime(format="iso")


@blp.route("")
class Reports(MethodView):
    @auth.partner(blp, "reports:write")
    @blp.arguments(ReportSchema, example=STAY_REPORT_EXAMPLE)
    @blp.response(201, ReportReceiptSchema, example=RECEIPT_EXAMPLE)
    @blp.alt_response(409, response="CONFLICT", example=PROBLEM_DUPLICATE)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    def post(self, data: dict[str, Any]) -> Any:
        """Send a report

        Priority is computed by the server. When people are in immediate danger or
        minors are involved, `guidance` lists the emergency numbers to call now.
        """
        rt, session = web.runtime(), web.session()
        report = service.create(
            session=session, crypto=rt.crypto, partner_id=auth.current_partner().id, data=data
        )
        session.commit()
        return service.receipt(report), 201, {"Location": f"/v1/reports/{report.public_id}"}

    @auth.partner(blp, "reports:read")
    @blp.arguments(ReportListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, PartnerReportSchema(many=True))
    @blp.alt_response(400, response="BAD_REQUEST")
    def get(self, **args: Any) -> Any:
        """List your reports

        Ordered by last update, oldest first. Follow the `Link: rel="next"` header.
        """
        rows, cursor = service.list_for_partner(
            session=web.session(),
            partner_id=auth.current_partner().id,
            status=args.get("status"),
            updated_since=args.get("updated_since"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return [service.partner_view(r) for r in rows], 200, next_link(cursor)


@blp.route("/<string:report_id>")
class ReportItem(MethodView):
    @auth.partner(blp, "reports:read")
    @blp.response(200, PartnerReportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str) -> Any:
        """Read one of your reports (coarse status only)"""
        report = service.get_for_partner(
            session=web.session(), partner_id=auth.current_partner().id, report_id=report_id
        )
        return service.partner_view(report)


class LabelSchema(Schema):
    code = fields.String()
    fr = fields.String()
    en = fields.String()


class IndicatorSchema(LabelSchema):
    context = fields.String(metadata={"enum": ["stay", "flight", "any"]})
    strong = fields.Boolean()


class VocabularySchema(Schema):
    indicators = fields.List(fields.Nested(IndicatorSchema))
    suspected_exploitation = fields.List(fields.Nested(LabelSchema))
    reporter_roles = fields.List(fields.Nested(LabelSchema))


@vocabulary_blp.route("/indicators")
class Vocabulary(MethodView):
    @vocabulary_blp.response(200, VocabularySchema)
    def get(self) -> Any:
        """Indicator, exploitation and reporter-role codes with French and English labels

        Public: forms embedded on partner sites fetch it without a key.
        """
        return {
            "indicators": INDICATORS,
            "suspected_exploitation": EXPLOITATION,
            "reporter_roles": REPORTER_ROLES,
        }

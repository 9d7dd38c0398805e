"""GET /v1/stats/indicators: JSON, or CSV with `Accept: text/csv`."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from vigie import auth, clock, web
from vigie.errors import Invalid, field_error
from vigie.stats import service
from vigie.validators import in_range
from vigie.web import Blueprint

blp = Blueprint("stats", __name__, url_prefix="/v1/stats", description="Indicators of the plan")


class IndicatorArgsSchema(Schema):
    from_ = fields.AwareDateTime(
        data_key="from",
        format="iso",
        validate=in_range,
        metadata={"description": "Default: 30 days before `to`"},
    )
    to = fields.AwareDateTime(
        format="iso", validate=in_range, metadata={"description": "Default: now (exclusive)"}
    )
    group_by = fields.String(
        validate=validate.OneOf(service.GROUP_BY),
        metadata={
            "description": "One row per group: partner, exploitation (a report counts in each "
            "of its forms), department, priority, month (of reception), channel (the tool it "
            "came through: api, batch, adapter:<name>, form), reporter_role (who spotted), "
            "context (stay, flight, other). Default: one row, `all`"
        },
    )


class FirstReviewSchema(Schema):
    reviewed = fields.Integer()
    not_reviewed = fields.Integer()
    median_minutes = fields.Float(allow_none=True)
    p90_minutes = fields.Float(allow_none=True)
    within_response_time_share = fields.Float(allow_none=True)


class GroupSchema(Schema):
    key = fields.String()
    label = fields.String(allow_none=True)
    received = fields.Integer()
    by_context = fields.Dict(keys=fields.String(), values=fields.Integer())
    with_minors = fields.Integer()
    in_immediate_danger = fields.Integer()
    first_review = fields.Dict(keys=fields.String(), values=fields.Nested(FirstReviewSchema))
    referrals = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        metadata={"description": "target type → outcome → count"},
    )
    referral_refusals = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "refused referrals (declined, no_capacity) by reason"},
    )
    closures = fields.Dict(keys=fields.String(), values=fields.Integer())


class ContentPullsSchema(Schema):
    partner_id = fields.String()
    partner_name = fields.String()
    pulls = fields.Integer(metadata={"description": "items delivered (200)"})
    revalidations = fields.Integer(metadata={"description": "items confirmed unchanged (304)"})
    items = fields.Integer(metadata={"description": "distinct items"})


class IndicatorsSchema(Schema):
    from_ = fields.DateTime(data_key="from")
    to = fields.DateTime()
    group_by = fields.String(allow_none=True)
    groups = fields.List(fields.Nested(GroupSchema))
    content_pulls_by_partner = fields.List(
        fields.Nested(ContentPullsSchema),
        metadata={
            "description": "Awareness content pulled per partner on the days of the period "
            "(API workers write these counts in batches, so the last half-minute may be missing)"
        },
    )


@blp.route("/indicators")
class Indicators(MethodView):
    @auth.staff(blp, "supervisor", "admin")
    @blp.doc(operationId="getIndicatorStats")
    @blp.arguments(IndicatorArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, IndicatorsSchema)
    @blp.doc(
        responses={
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": IndicatorsSchema},
                    "text/csv": {
                        "schema": {"type": "string"},
                        "example": "group,label,received,...\r\nall,,<5,...\r\n",
                    },
                },
            }
        }
    )
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, **args: Any) -> Any:
        """Indicators for the plan's follow-up

        Over the reports received in [from, to): received, by context, with minors, in
        immediate danger; time to first review per priority (median, 90th percentile,
        share within the response time); referrals by target type and outcome, refusals by
        reason; closures by reason. Send `Accept: text/csv` for an export where counts
        under 5 read `<5` and review times of fewer than 5 reports are left empty.
        """
        end = args.get("to") or clock.now()
        start = args.get("from_") or end - timedelta(days=30)
        if start >= end:
            detail = "from must be before to (to defaults to now)."
            raise Invalid(detail, errors=[field_error("from", detail, location="query")])
        result = service.indicators(
            session=web.session(),
            start=start.astimezone(UTC),
            end=end.astimezone(UTC),
            group_by=args.get("group_by"),
        )
        best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
        if best == "text/csv":
            stamp = clock.now().strftime("%Y%m%d")
            return Response(
                service.to_csv(result),
                mimetype="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="vigie-indicators-{stamp}.csv"'
                },
            )
        return result

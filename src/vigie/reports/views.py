"""Partner endpoints for reports and the vocabulary partners build their forms from."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.views import MethodView

from vigie import auth, ratelimit, web
from vigie.errors import documented_problem
from vigie.idempotency.decorator import EXAMPLE_IN_USE, EXAMPLE_REUSED, idempotent
from vigie.pagination import next_link
from vigie.reports import examples as ex
from vigie.reports import service
from vigie.reports.schemas import (
    BatchResultSchema,
    BatchSchema,
    PartnerReportSchema,
    ReportListArgsSchema,
    ReportReceiptSchema,
    ReportSchema,
    VocabularySchema,
)
from vigie.reports.vocabulary import EXPLOITATION, INDICATORS, REPORTER_ROLES
from vigie.web import Blueprint

blp = Blueprint(
    "reports", __name__, url_prefix="/v1/reports", description="Reports sent by partners"
)
vocabulary_blp = Blueprint(
    "indicators", __name__, url_prefix="/v1", description="Vocabulary for partners' forms"
)


REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request "
        "with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
LOCATION_HEADER = {
    "Location": {"description": "The new report's URL", "schema": {"type": "string"}}
}
LINK_HEADER = {
    "Link": {
        "description": 'The next page, when there is one: `<url>; rel="next"`',
        "schema": {"type": "string"},
    }
}

# Instances, not classes: webargs would build a schema (and its nested ones) per request.
REPORT_SCHEMA = ReportSchema()


problem = partial(documented_problem, blp)  # @problem(status, name=example, ...)


def write_errors(func: Any) -> Any:
    """The problems every report-writing operation may answer (besides 401/403 from auth)."""
    for decorator in (
        problem(400, malformed_json=ex.PROBLEM_MALFORMED_JSON),
        problem(413, too_large=ex.PROBLEM_TOO_LARGE),
        problem(415, wrong_content_type=ex.PROBLEM_MEDIA_TYPE),
    ):
        func = decorator(func)
    return func


@blp.route("")
class Reports(MethodView):
    @auth.partner(blp, "reports:write")
    @blp.doc(operationId="createReport")
    @idempotent(blp)
    @blp.arguments(REPORT_SCHEMA, example=ex.STAY_REPORT_EXAMPLE)
    @blp.response(
        201,
        ReportReceiptSchema,
        example=ex.RECEIPT_EXAMPLE,
        headers={**LOCATION_HEADER, **REPLAYED_HEADER},
    )
    @write_errors
    @problem(409, duplicate=ex.PROBLEM_DUPLICATE, key_in_flight=EXAMPLE_IN_USE)
    @problem(422, invalid_fields=ex.PROBLEM_INVALID, key_reused=EXAMPLE_REUSED)
    def post(self, data: dict[str, Any]) -> Any:
        """Send a report

        Priority is computed by the server. When people are in immediate danger or
        minors are involved, `guidance` lists the emergency numbers to call now.
        A second report with the same `partner_reference` is 409 and names the
        existing report in `existing_report_id`.
        """
        rt, session = web.runtime(), web.session()
        report = service.create(
            session=session, crypto=rt.crypto, partner_id=auth.current_partner().id, data=data
        )
        session.commit()
        return report, 201, {"Location": report.links["self"]}

    @auth.partner(blp, "reports:read")
    @blp.doc(operationId="listReports")
    @blp.arguments(ReportListArgsSchema, location="query", as_kwargs=True)
    @blp.response(
        200,
        PartnerReportSchema(many=True),
        example=[ex.PARTNER_REPORT_EXAMPLE],
        headers=LINK_HEADER,
    )
    @problem(400, malformed_cursor=ex.PROBLEM_MALFORMED_CURSOR)
    @problem(422, limit_too_large=ex.PROBLEM_LIMIT)
    def get(self, **args: Any) -> Any:
        """List your reports

        Ordered by last update, oldest first. Follow the `Link: rel="next"` header;
        keep `updated_since` to resume a sync.
        """
        page = service.list_for_partner(
            session=web.session(),
            partner_id=auth.current_partner().id,
            status=args.get("status"),
            updated_since=args.get("updated_since"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page.items, 200, next_link(page.next_cursor)


@blp.route("/batch")
class ReportBatch(MethodView):
    @auth.partner(blp, "reports:write")
    @blp.doc(operationId="createReportBatch")
    @idempotent(blp)
    @blp.arguments(BatchSchema(), example=ex.BATCH_EXAMPLE)
    @blp.response(200, BatchResultSchema, example=ex.BATCH_RESULT_EXAMPLE, headers=REPLAYED_HEADER)
    @write_errors
    @problem(409, key_in_flight=EXAMPLE_IN_USE)
    @problem(422, too_many_reports=ex.PROBLEM_BATCH_TOO_LONG, key_reused=EXAMPLE_REUSED)
    def post(self, data: dict[str, Any]) -> Any:
        """Send up to 100 reports at once

        Each report is checked and stored on its own, with the rules of a single
        report: `results` has one entry per report, in order, with `status` 201
        (`id`, `priority`), 422 or 409 (`problem`). More than 100 reports is a 422
        for the whole call, and nothing is stored. Each report counts as one request
        against the key's rate limit for reports:write.
        """
        if len(data["reports"]) > 1:  # the call itself was counted as one when authenticated
            ratelimit.charge(auth.current_partner(), "reports:write", len(data["reports"]) - 1)
        rt, session = web.runtime(), web.session()
        results = service.create_batch(
            session=session,
            crypto=rt.crypto,
            partner_id=auth.current_partner().id,
            items=data["reports"],
        )
        session.commit()
        return {"results": results}


@blp.route("/<string:report_id>")
class ReportItem(MethodView):
    @auth.partner(blp, "reports:read")
    @blp.doc(operationId="getReport")
    @blp.response(200, PartnerReportSchema, example=ex.PARTNER_REPORT_EXAMPLE)
    @problem(404, not_found=ex.PROBLEM_NOT_FOUND)
    def get(self, report_id: str) -> Any:
        """Read one of your reports (coarse status only)

        Another partner's report answers 404, exactly like a missing one.
        """
        return service.get_for_partner(
            session=web.session(), partner_id=auth.current_partner().id, report_id=report_id
        )


@vocabulary_blp.route("/indicators")
class Vocabulary(MethodView):
    @vocabulary_blp.doc(operationId="getVocabulary")
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

"""POST /v1/integrations/{adapter}/reports: a report in the partner's native format."""

from __future__ import annotations

from functools import partial, wraps
from typing import Any

from flask.views import MethodView

from vigie import auth, integrations, web
from vigie.errors import documented_problem
from vigie.idempotency.decorator import EXAMPLE_IN_USE, EXAMPLE_REUSED, idempotent
from vigie.intake import examples as ex
from vigie.intake import service
from vigie.intake.schemas import NativeReportSchema
from vigie.reports import examples as report_examples
from vigie.reports.schemas import ReportReceiptSchema
from vigie.reports.views import LOCATION_HEADER, REPLAYED_HEADER
from vigie.web import Blueprint

blp = Blueprint(
    "intake",
    __name__,
    url_prefix="/v1/integrations",
    description="Reports in a partner's native format, mapped by its adapter",
)


def _installed() -> list[integrations.InboundAdapter]:
    """The inbound adapters installed (entry points), for the reference documentation."""
    return [
        integrations.load_adapter(name)
        for name in integrations.available(integrations.InboundAdapter)
    ]


ADAPTERS = _installed()
ADAPTER_PARAMETER = {
    "in": "path",
    "name": "adapter",
    "required": True,
    "description": "The adapter for your format (an unknown name is 404).",
    "schema": {"type": "string", "enum": [a.name for a in ADAPTERS]},
}
BODY_DESCRIPTION = (
    "Your report in your own format, as a JSON object; the adapter documents its fields, "
    "the mapping onto the canonical report and its samples:\n\n"
    + "\n".join(f"- `{a.name}`: {a.title}, see `{a.guide}`" for a in ADAPTERS)
)
BODY_EXAMPLES = {
    a.name: {"summary": a.title, "value": a.example()} for a in ADAPTERS if a.example()
}


problem = partial(documented_problem, blp)  # @problem(status, name=example, ...)


def known_adapter(func: Any) -> Any:
    """An unknown adapter is 404 before anything else is read (the body, the key)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        service.adapter_named(kwargs["adapter"])
        return func(*args, **kwargs)

    return wrapper


@blp.route("/<string:adapter>/reports", parameters=[ADAPTER_PARAMETER])
class AdapterReports(MethodView):
    @auth.partner(blp, "reports:write")
    @known_adapter
    @idempotent(blp)
    @blp.arguments(NativeReportSchema(), description=BODY_DESCRIPTION, examples=BODY_EXAMPLES)
    @blp.response(
        201,
        ReportReceiptSchema,
        example=ex.RECEIPT_EXAMPLE,
        headers={**LOCATION_HEADER, **REPLAYED_HEADER},
    )
    @problem(400, malformed_json=report_examples.PROBLEM_MALFORMED_JSON)
    @problem(404, unknown_adapter=ex.PROBLEM_UNKNOWN_ADAPTER)
    @problem(409, duplicate=ex.PROBLEM_DUPLICATE, key_in_flight=EXAMPLE_IN_USE)
    @problem(413, too_large=report_examples.PROBLEM_TOO_LARGE)
    @problem(415, wrong_content_type=report_examples.PROBLEM_MEDIA_TYPE)
    @problem(
        422,
        invalid_fields=ex.PROBLEM_UNKNOWN_CODE,
        not_an_object=ex.PROBLEM_NOT_A_JSON_OBJECT,
        key_reused=EXAMPLE_REUSED,
    )
    @blp.doc(operationId="createAdapterReport")
    def post(self, native: dict[str, Any], adapter: str) -> Any:
        """Send a report in your own format

        The adapter named in the path maps your payload onto the canonical report; it is
        then stored exactly as by `POST /v1/reports`: the same validation, priority,
        guidance, `Idempotency-Key` and uniqueness of your reference (409), and the same
        receipt. Errors name your fields: `pointer` is a JSON pointer into the body you
        sent (`#/concerns/3`). A code the adapter does not know is a 422 naming it, never
        dropped.
        """
        rt, session = web.runtime(), web.session()
        report = service.create(
            session=session,
            crypto=rt.crypto,
            partner_id=auth.current_partner().id,
            adapter=adapter,
            native=native,
        )
        session.commit()
        return report, 201, {"Location": report.links["self"]}

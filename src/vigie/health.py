"""Liveness and readiness, without credentials and without details."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vigie import web
from vigie.errors import Problem, database_unavailable
from vigie.web import Blueprint

blp = Blueprint("health", __name__, description="Process health")


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class NotReady(Problem):
    status, slug = 503, "not-ready"
    summary = "Not ready"
    meaning = "This instance cannot reach its database, so it cannot answer requests yet."
    fix = "Retry in a few seconds; a load balancer should route to another instance meanwhile."


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.doc(operationId="checkLiveness")
    @blp.response(200, HealthSchema)
    def get(self) -> Any:
        """The process answers"""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.doc(operationId="checkReadiness")
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> Any:
        """The database answers"""
        # 503 with Retry-After while it does not (refused, unreachable, or slower than the
        # configured timeouts): the error goes to the one handler of vigie.errors like any
        # request's, logged once per failure class per interval, never described.
        try:
            web.session().execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            if database_unavailable(exc):
                raise
            raise NotReady("Not ready.") from None
        return {"status": "ok"}

"""La file d'attente: the open reports in the API's priority order, with its filters.

The page and its refreshed fragment call `triage.service.queue` and `queue_counts`, the
functions behind GET /v1/triage/queue, with the filters parsed by the same schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, render_template, url_for

from vigie import clock, web
from vigie.console import labels, security
from vigie.console.blueprint import blp
from vigie.console.filters import parse_filters
from vigie.errors import Problem
from vigie.partners import service as partners
from vigie.reports.priority import PRIORITIES
from vigie.reports.vocabulary import DEPARTMENTS, EXPLOITATION
from vigie.triage import service as triage
from vigie.triage.models import OPEN_STATUSES
from vigie.triage.schemas import QueueArgsSchema

PAGE_SIZE = 50
FILTER_NAMES = tuple(triage.QueueFilters.__dataclass_fields__)
BAD_CURSOR = "Le lien de page n'est plus valide ; la file est affichée depuis le début."


def _department_key(code: str) -> tuple[int, str]:
    return (int(code[:2]) if code[:2].isdigit() else 20, code)


DEPARTMENT_CODES = sorted(DEPARTMENTS, key=_department_key)


def _row(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    due_text, overdue = labels.due(item["status"], item["due_at"], now)
    claim = item["claim"]
    return {
        **item,
        "due_text": due_text,
        "overdue": overdue,
        "exploitation": [
            labels.label(c, labels.EXPLOITATIONS) for c in item["suspected_exploitation"]
        ],
        "holder": claim["holder"].name if claim else None,
        "holder_until": labels.hour(claim["expires_at"]) if claim else None,
    }


def _query_string(args: dict[str, Any], **changes: Any) -> dict[str, Any]:
    values = {k: args[k] for k in FILTER_NAMES if args.get(k) is not None}
    if isinstance(values.get("overdue"), bool):
        values["overdue"] = "true" if values["overdue"] else "false"
    return {**values, **changes}


def _queue_view() -> dict[str, Any]:
    args, errors = parse_filters(QueueArgsSchema(), (*FILTER_NAMES, "cursor"))
    filters = triage.QueueFilters(**{k: args.get(k) for k in FILTER_NAMES})
    session = web.session()
    try:
        page = triage.queue(
            session=session, filters=filters, limit=PAGE_SIZE, cursor=args.get("cursor")
        )
    except Problem:  # a stale or edited cursor: start from the top, and say so
        errors.append(BAD_CURSOR)
        page = triage.queue(session=session, filters=filters, limit=PAGE_SIZE, cursor=None)
    now = clock.now()
    rows = [_row(item, now) for item in page.items]
    shown = _query_string(args)
    return {
        "rows": rows,
        "counts": triage.queue_counts(session=session),
        "errors": errors,
        "filters": shown,
        "filtered": bool(shown),
        "p1_ids": " ".join(r["id"] for r in rows if r["priority"] == "P1"),
        "next_url": (
            url_for("console.queue_page", **_query_string(args, cursor=page.next_cursor))
            if page.next_cursor
            else None
        ),
        "refresh_url": url_for("console.queue_page", **_query_string(args)),
        "rows_url": url_for("console.queue_rows", **_query_string(args)),
        "paged": bool(args.get("cursor")),
        "refresh_seconds": web.runtime().config.console_refresh_seconds,
    }


def _options() -> dict[str, Any]:
    return {
        "statuses": [(s, labels.STATUSES[s]) for s in OPEN_STATUSES],
        "priorities": list(PRIORITIES),
        "departments": DEPARTMENT_CODES,
        "partners": [(p.public_id, p.name) for p in partners.list_(session=web.session())],
        "exploitations": [(e.code, e.fr) for e in EXPLOITATION],
    }


@blp.get("/queue")
@security.allow(*security.TRIAGE)
def queue_page() -> Any:
    return render_template("console/queue.html", **_queue_view(), options=_options())


@blp.get("/queue/rows")
@security.allow(*security.TRIAGE)
def queue_rows() -> Any:
    """The results part of the queue page, fetched by its refresh script every 30 seconds."""
    body = render_template("console/_queue_results.html", **_queue_view())
    return Response(body, headers={"X-Vigie-Fragment": "queue"})

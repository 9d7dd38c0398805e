"""Indicators for the national plan's follow-up, computed over a cohort of reports.

The cohort is the reports received in [from, to); every figure (first review,
referrals, closures) is about that cohort, so the rows of a period add up.
Each question of the plan is one `group_by` away: through which tool (`channel`), who
spots (`reporter_role`), where (`context`, `department`), and in every group the
referrals by target type and outcome (oriented to whom, with what result).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Result, select
from sqlalchemy.orm import Session

from vigie.content import service as content
from vigie.partners.models import Partner
from vigie.reports.models import Report
from vigie.reports.priority import PRIORITIES, RESPONSE_TIMES
from vigie.triage.models import (
    CLOSURE_REASONS,
    OUTCOMES,
    REFUSAL_REASONS,
    TARGET_TYPES,
    Referral,
)

# A report's one group under each single-valued grouping (partner and exploitation below).
_GROUP_OF: dict[str, Callable[[Any], str]] = {
    "department": lambda row: row.department or "unknown",
    "priority": lambda row: row.priority,
    "month": lambda row: row.received_at.strftime("%Y-%m"),
    "channel": lambda row: row.channel,  # api, batch, adapter:<name>, form
    "reporter_role": lambda row: row.reporter_role,
    "context": lambda row: row.context,
}
GROUP_BY = ("partner", "exploitation", *_GROUP_OF)
CONTEXTS = ("stay", "flight", "other")
# Refusals (declined, no_capacity) by reason; `unspecified` when none was given.
REFUSAL_KEYS = (*REFUSAL_REASONS, "unspecified")
SMALL_CELL = 5  # exports show counts under this as "<5"


def content_pulls_by_partner(
    *, session: Session, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Awareness-content pulls per partner over the UTC days the period [start, end) touches."""
    last_day = (end - timedelta(microseconds=1)).date()
    return content.pulls_by_partner(session=session, start=start.date(), end=last_day)


def _percentile(sorted_values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (the value below which `share` of the values lie)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def _median(sorted_values: list[float]) -> float | None:
    n = len(sorted_values)
    if not n:
        return None
    middle = n // 2
    if n % 2:
        return sorted_values[middle]
    return (sorted_values[middle - 1] + sorted_values[middle]) / 2


class _Group:
    def __init__(self, key: str, label: str | None) -> None:
        self.key = key
        self.label = label
        self.received = 0
        self.by_context = dict.fromkeys(CONTEXTS, 0)
        self.with_minors = 0
        self.in_immediate_danger = 0
        self.review_minutes: dict[str, list[float]] = {p: [] for p in PRIORITIES}
        self.within: dict[str, int] = dict.fromkeys(PRIORITIES, 0)
        self.unreviewed: dict[str, int] = dict.fromkeys(PRIORITIES, 0)
        self.referrals: dict[str, dict[str, int]] = {
            t: dict.fromkeys(("pending", *OUTCOMES), 0) for t in TARGET_TYPES
        }
        self.refusals = dict.fromkeys(REFUSAL_KEYS, 0)
        self.closures = dict.fromkeys(CLOSURE_REASONS, 0)

    def count(self, row: Any) -> None:
        """Count one report of the cohort in this group."""
        self.received += 1
        self.by_context[row.context] = self.by_context.get(row.context, 0) + 1
        self.with_minors += int(row.minors_involved)
        self.in_immediate_danger += int(row.in_immediate_danger)
        if row.first_reviewed_at is None:
            self.unreviewed[row.priority] += 1
        else:
            waited = row.first_reviewed_at - row.received_at
            self.review_minutes[row.priority].append(waited.total_seconds() / 60)
            self.within[row.priority] += int(waited <= RESPONSE_TIMES[row.priority])
        if row.status == "closed" and row.closure_reason:
            self.closures[row.closure_reason] += 1

    def result(self) -> dict[str, Any]:
        first_review = {}
        for priority in PRIORITIES:
            values = sorted(self.review_minutes[priority])
            reviewed = len(values)
            first_review[priority] = {
                "reviewed": reviewed,
                "not_reviewed": self.unreviewed[priority],
                "median_minutes": _round(_median(values)),
                "p90_minutes": _round(_percentile(values, 0.9)),
                "within_response_time_share": (
                    round(self.within[priority] / reviewed, 4) if reviewed else None
                ),
            }
        return {
            "key": self.key,
            "label": self.label,
            "received": self.received,
            "by_context": self.by_context,
            "with_minors": self.with_minors,
            "in_immediate_danger": self.in_immediate_danger,
            "first_review": first_review,
            "referrals": self.referrals,
            "referral_refusals": self.refusals,
            "closures": self.closures,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _keys_for(
    group_by: str | None, partners: dict[int, Partner], row: Any
) -> list[tuple[str, str | None]]:
    """The (key, label) of each group a report counts in: one, or one per exploitation code."""
    if group_by is None:
        return [("all", None)]
    if group_by == "partner":
        partner = partners.get(row.partner_id)
        return [(partner.public_id, partner.name) if partner else ("unknown", None)]
    if group_by == "exploitation":
        return [(code, None) for code in row.suspected_exploitation]
    return [(_GROUP_OF[group_by](row), None)]


def _cohort(session: Session, start: datetime, end: datetime) -> Result[Any]:
    """The reports received in [start, end), streamed (close the result)."""
    return session.execute(
        select(
            Report.id,
            Report.partner_id,
            Report.department,
            Report.suspected_exploitation,
            Report.priority,
            Report.received_at,
            Report.context,
            Report.minors_involved,
            Report.in_immediate_danger,
            Report.first_reviewed_at,
            Report.status,
            Report.closure_reason,
            Report.channel,
            Report.reporter_role,
        )
        .where(Report.received_at >= start, Report.received_at < end)
        .execution_options(yield_per=5000)
    )


def _count_referrals(
    session: Session, start: datetime, end: datetime, report_groups: dict[int, list[_Group]]
) -> None:
    """Each referral of the cohort, by target type and status, and each refusal by reason,
    in its report's groups."""
    rows = session.execute(
        select(Referral.report_id, Referral.target_type, Referral.status, Referral.outcome_reason)
        .join(Report, Report.id == Referral.report_id)
        .where(Report.received_at >= start, Report.received_at < end)
    )
    for report_id, target_type, status, reason in rows:
        for g in report_groups.get(report_id, []):
            g.referrals[target_type][status] += 1
            if status in ("declined", "no_capacity"):
                g.refusals[reason or "unspecified"] += 1


def indicators(
    *, session: Session, start: datetime, end: datetime, group_by: str | None
) -> dict[str, Any]:
    partners = {p.id: p for p in session.scalars(select(Partner))}
    groups: dict[str, _Group] = {}
    report_groups: dict[int, list[_Group]] = {}
    with closing(_cohort(session, start, end)) as rows:  # a server-side cursor on PostgreSQL
        for row in rows:
            targets = []
            for key, label in _keys_for(group_by, partners, row):
                if key not in groups:
                    groups[key] = _Group(key, label)
                targets.append(groups[key])
            report_groups[row.id] = targets
            for g in targets:
                g.count(row)
    if report_groups:
        _count_referrals(session, start, end, report_groups)
    return {
        "from": start,
        "to": end,
        "group_by": group_by,
        "groups": [groups[k].result() for k in sorted(groups)],
        "content_pulls_by_partner": content_pulls_by_partner(session=session, start=start, end=end),
    }


def _columns() -> list[tuple[str, tuple[str, ...], bool]]:
    """(header, path into a group, is_count): counts are suppressed under SMALL_CELL."""
    cols: list[tuple[str, tuple[str, ...], bool]] = [
        ("group", ("key",), False),
        ("label", ("label",), False),
        ("received", ("received",), True),
    ]
    cols += [(f"context_{c}", ("by_context", c), True) for c in CONTEXTS]
    cols += [("with_minors", ("with_minors",), True)]
    cols += [("in_immediate_danger", ("in_immediate_danger",), True)]
    for p in PRIORITIES:
        cols.append((f"{p}_reviewed", ("first_review", p, "reviewed"), True))
        for field in ("median_minutes", "p90_minutes", "within_response_time_share"):
            cols.append((f"{p}_{field}", ("first_review", p, field), False))
    for t in TARGET_TYPES:
        cols += [(f"referrals_{t}_{s}", ("referrals", t, s), True) for s in ("pending", *OUTCOMES)]
    cols += [(f"refused_{r}", ("referral_refusals", r), True) for r in REFUSAL_KEYS]
    cols += [(f"closed_{r}", ("closures", r), True) for r in CLOSURE_REASONS]
    return cols


_COLUMNS = _columns()
HEADER = tuple(name for name, _, _ in _COLUMNS)


def _get(group: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = group
    for key in path:
        value = value[key]
    return value


def export_row(group: dict[str, Any]) -> list[Any]:
    """One group as the export shows it, in `HEADER` order. Counts of 1 to 4 read `<5`; the
    review times of a priority with fewer than 5 reviewed reports are None, since they would
    describe one identifiable case. The CSV and the console's tables both show these."""
    row = []
    for _, path, is_count in _COLUMNS:
        value = _get(group, path)
        if is_count and 0 < value < SMALL_CELL:
            value = f"<{SMALL_CELL}"
        elif (
            not is_count
            and path[0] == "first_review"
            and group["first_review"][path[1]]["reviewed"] < SMALL_CELL
        ):
            value = None
        row.append(value)
    return row


def to_csv(result: dict[str, Any]) -> str:
    """One row per group, small cells suppressed (`export_row`); None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for g in result["groups"]:
        writer.writerow(["" if value is None else value for value in export_row(g)])
    return out.getvalue()

"""Indicateurs: the plan's indicators over a chosen period, as tables and SVG charts.

Every figure is computed by `stats.service.indicators`, the function behind
GET /v1/stats/indicators, over the same cohort (the reports received in the period), and
shown as the API's CSV export writes it (`stats.service.export_row`: counts of 1 to 4 read
`<5`, review times of fewer than 5 reports are left out). The page makes these calls:

- the whole period, no grouping: time to first review per priority, referrals by type and
  outcome;
- the whole period by département;
- each week of the period (Monday to Sunday, Paris time, cut at the period's ends) by
  priority: reports received per week and priority.

The CSV link downloads exactly those rows, each led by the `from`, `to` and `group_by` that
give the same row from the API, so a figure on the page, in the CSV and from the API is one.
The period is whole days in Paris time, from the first to the last included.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request, url_for
from sqlalchemy.orm import Session

from vigie import clock, web
from vigie.console import labels, security
from vigie.console.account import error_page
from vigie.console.blueprint import blp
from vigie.console.charts import Chart, Group, Series, Value, bar_chart
from vigie.reports.priority import PRIORITIES, RESPONSE_TIMES
from vigie.stats import service as stats
from vigie.triage.models import OUTCOMES, TARGET_TYPES

DEFAULT_DAYS = 30
MAX_DAYS = 366  # one chart row per week: at most 54 rows (cut weeks at both ends)
FIRST_DAY = (clock.EARLIEST + timedelta(days=1)).date()
LAST_DAY = (clock.LATEST - timedelta(days=2)).date()
REFERRAL_STATUSES = ("pending", *OUTCOMES)
REVIEW_SCALE = (1.25, 4.0)  # the first-review chart spans 1.25 to 4 response times
NOT_A_DAY = {
    "from": "La date de début n'est pas une date valide : écrivez-la AAAA-MM-JJ (2026-11-01).",
    "to": "La date de fin n'est pas une date valide : écrivez-la AAAA-MM-JJ (2026-11-30).",
}
OUT_OF_RANGE = "Choisissez une date entre 1970 et 8999."
REVERSED = (
    "La date de début doit être avant la date de fin (aujourd'hui si elle est vide), "
    "ou le même jour."
)
TOO_LONG = f"Choisissez une période d'au plus {MAX_DAYS} jours."


@dataclass(frozen=True)
class Period:
    """Whole days in Paris time, `first` to `last` included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1))

    def weeks(self) -> list[Period]:
        """Monday to Sunday, the first and last cut at the period's ends."""
        weeks, first = [], self.first
        while first <= self.last:
            sunday = first + timedelta(days=6 - first.weekday())
            weeks.append(Period(first, min(sunday, self.last)))
            first = sunday + timedelta(days=1)
        return weeks

    def text(self) -> str:
        return f"du {self.first:%d/%m/%Y} au {self.last:%d/%m/%Y}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=labels.PARIS).astimezone(UTC)


def _day(args: Any, name: str, errors: dict[str, str]) -> date | None:
    raw = str(args.get(name, "")).strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = NOT_A_DAY[name]
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors[name] = OUT_OF_RANGE
        return None
    return day


def parse_period(args: Any) -> tuple[Period | None, dict[str, str]]:
    """The period of the form (default: the last 30 days, today included), or the French
    message of each field that is wrong."""
    errors: dict[str, str] = {}
    first, last = _day(args, "from", errors), _day(args, "to", errors)
    if errors:
        return None, errors
    last = last or clock.now().astimezone(labels.PARIS).date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        return None, {"from": REVERSED}
    if (last - first).days >= MAX_DAYS:
        return None, {"to": TOO_LONG}
    return Period(first, last), {}


@dataclass(frozen=True)
class Call:
    """One call of the stats service: the period, the grouping, the rows as exported."""

    period: Period
    group_by: str | None
    rows: list[dict[str, Any]]


def _call(session: Session, period: Period, group_by: str | None) -> Call:
    result = stats.indicators(
        session=session, start=period.start, end=period.end, group_by=group_by
    )
    rows = [dict(zip(stats.HEADER, stats.export_row(g), strict=True)) for g in result["groups"]]
    return Call(period, group_by, rows)


@dataclass(frozen=True)
class Figures:
    whole: Call
    departments: Call
    weeks: list[Call]

    @property
    def calls(self) -> list[Call]:
        return [self.whole, self.departments, *self.weeks]

    @property
    def total(self) -> dict[str, Any] | None:
        """The whole period's one row (group `all`), None when no report was received."""
        return self.whole.rows[0] if self.whole.rows else None


def figures(session: Session, period: Period) -> Figures:
    return Figures(
        whole=_call(session, period, None),
        departments=_call(session, period, "department"),
        weeks=[_call(session, week, "priority") for week in period.weeks()],
    )


# -- charts: the figures as drawn; the tables in the template show the same ones ------------


def _value(figure: Any, text: str | None = None) -> Value:
    """A count as exported: a number draws a bar, `<5` only its text."""
    amount = float(figure) if isinstance(figure, int) else None
    return Value(amount, text or str(figure))


def week_rows(found: Figures) -> list[tuple[Period, dict[str, Any]]]:
    """(week, priority → received as exported); a priority without report counts 0."""
    rows = []
    for call in found.weeks:
        by_priority = {row["group"]: row["received"] for row in call.rows}
        rows.append((call.period, {p: by_priority.get(p, 0) for p in PRIORITIES}))
    return rows


def _weeks_chart(found: Figures) -> Chart:
    weeks = week_rows(found)
    return bar_chart(
        id_="chart-weeks",
        title="Signalements reçus par semaine et par priorité",
        description=(
            f"Une ligne par semaine ({len(weeks)}), une barre par priorité, de P1 à P4. "
            "Les chiffres sont dans le tableau qui suit."
        ),
        series=tuple(Series(labels.PRIORITIES[p], p.lower()) for p in PRIORITIES),
        groups=[
            Group(f"{week.first:%d/%m} au {week.last:%d/%m}", tuple(_value(v[p]) for p in v))
            for week, v in weeks
        ],
    )


def review_rows(total: dict[str, Any]) -> list[dict[str, Any]]:
    """Per priority: its response time and the first-review figures as exported."""
    return [
        {
            "priority": p,
            "response": labels.duration(RESPONSE_TIMES[p].total_seconds()),
            "response_minutes": RESPONSE_TIMES[p].total_seconds() / 60,
            "reviewed": total[f"{p}_reviewed"],
            "median": total[f"{p}_median_minutes"],
            "p90": total[f"{p}_p90_minutes"],
            "within": total[f"{p}_within_response_time_share"],
        }
        for p in PRIORITIES
    ]


def minutes(value: float | None) -> str:
    return "—" if value is None else labels.duration(value * 60)


def share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def _review_value(row: dict[str, Any], key: str, name: str) -> Value:
    if row[key] is not None:
        return Value(row[key] / row["response_minutes"], f"{name} : {minutes(row[key])}")
    if row["reviewed"] == 0:
        return Value(None, f"{name} : aucun signalement examiné")
    return Value(None, f"{name} : non publié (moins de 5 examinés)")


def _review_chart(total: dict[str, Any]) -> Chart:
    rows = review_rows(total)
    ratios = [row[k] / row["response_minutes"] for row in rows for k in ("median", "p90") if row[k]]
    low, high = REVIEW_SCALE
    return bar_chart(
        id_="chart-review",
        title="Délai avant le premier examen, comparé au délai de réponse de chaque priorité",
        description=(
            "Pour chaque priorité, la médiane et le 90e centile du délai avant le premier "
            "examen, en proportion du délai de réponse de la priorité (la ligne verticale). "
            "Les chiffres sont dans le tableau qui suit."
        ),
        series=(Series("Médiane", "s0"), Series("90e centile", "s3")),
        groups=[
            Group(
                f"{row['priority']} (délai {row['response']})",
                (
                    _review_value(row, "median", "médiane"),
                    _review_value(row, "p90", "90e centile"),
                ),
            )
            for row in rows
        ],
        maximum=min(max([*ratios, low]), high),
        reference=(1.0, "délai de réponse"),
    )


def referral_rows(total: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """Per target type: the referrals of each status, as exported."""
    return [(t, [total[f"referrals_{t}_{s}"] for s in REFERRAL_STATUSES]) for t in TARGET_TYPES]


def _referrals_chart(total: dict[str, Any]) -> Chart:
    return bar_chart(
        id_="chart-referrals",
        title="Orientations par type de destination et par suite donnée",
        description=(
            f"Une ligne par type de destination ({len(TARGET_TYPES)}), une barre par suite : "
            "en attente, acceptée, refusée, pas de place, terminée. "
            "Les chiffres sont dans le tableau qui suit."
        ),
        series=tuple(
            Series(labels.REFERRAL_STATUSES[s], f"s{i}") for i, s in enumerate(REFERRAL_STATUSES)
        ),
        groups=[
            Group(labels.label(t, labels.SHELTER_TYPES), tuple(_value(v) for v in values))
            for t, values in referral_rows(total)
        ],
    )


def department(code: str) -> str:
    return "Non précisé" if code == "unknown" else code


def _departments_chart(found: Figures) -> Chart:
    rows = found.departments.rows
    return bar_chart(
        id_="chart-departments",
        title="Signalements reçus par département",
        description=(
            f"Une barre par département où des signalements ont été reçus ({len(rows)}). "
            "Les chiffres sont dans le tableau qui suit."
        ),
        series=(Series("Signalements reçus", "s0"),),
        groups=[Group(department(row["group"]), (_value(row["received"]),)) for row in rows],
    )


def _charts(found: Figures) -> dict[str, Chart]:
    charts = {"weeks": _weeks_chart(found)}
    if found.total is not None:
        charts["review"] = _review_chart(found.total)
        charts["referrals"] = _referrals_chart(found.total)
        charts["departments"] = _departments_chart(found)
    return charts


# -- pages --------------------------------------------------------------------------------


def _form_values(period: Period | None) -> dict[str, Any]:
    if period is None:
        return {k: str(request.args.get(k, ""))[:40] for k in ("from", "to")}
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


@blp.get("/indicateurs")
@security.allow(*security.SUPERVISE)
def indicators_page() -> Any:
    period, errors = parse_period(request.args)
    context: dict[str, Any] = {"form": _form_values(period), "errors": errors}
    if period is None:
        body = render_template("console/indicators.html", **context)
        return Response(body, status=422)
    found = figures(web.session(), period)
    return render_template(
        "console/indicators.html",
        **context,
        period=period,
        found=found,
        charts=_charts(found),
        weeks=week_rows(found),
        reviews=review_rows(found.total) if found.total else [],
        referrals=referral_rows(found.total) if found.total else [],
        referral_statuses=REFERRAL_STATUSES,
        priorities=PRIORITIES,
        csv_url=url_for("console.indicators_csv", **_form_values(period)),
        minutes=minutes,
        share=share,
        department=department,
    )


CSV_HEADER = ("from", "to", "group_by", *stats.HEADER)


def to_csv(found: Figures) -> str:
    """Every row the page shows, as the API's CSV writes it, led by the API query that gives
    the same row: `from` and `to` (ISO 8601 instants) and `group_by`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for call in found.calls:
        lead = [call.period.start.isoformat(), call.period.end.isoformat(), call.group_by or ""]
        for row in call.rows:
            writer.writerow([*lead, *("" if v is None else v for v in row.values())])
    return out.getvalue()


@blp.get("/indicateurs.csv")
@security.allow(*security.SUPERVISE)
def indicators_csv() -> Any:
    period, errors = parse_period(request.args)
    if period is None:
        return error_page(422, " ".join(errors.values()))
    found = figures(web.session(), period)
    name = f"vigie-indicateurs-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(
        to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

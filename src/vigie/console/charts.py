"""Horizontal bar charts drawn as SVG on the server: the geometry here, the markup in
`templates/console/_chart.html`.

Hand-written rather than a chart library: four bar charts need a few rectangles and labels,
and the console's Content-Security-Policy forbids the inline styles and scripts libraries
emit. Colours are classes of `supervisor.css`; each series also has its own fill pattern
(solid, hatched, dotted…), a legend in words, and every bar its figure written beside it, so
colour is never the only cue. A figure the export suppresses (`<5`) or leaves empty gets no
bar, only its text. The chart is one image (`role="img"`, a title and a description) and the
page puts the table of the same figures beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

CHAR_WIDTH = 7.2  # an estimate of one character at the charts' 13px font, for layout only
BAR = 16  # thickness of one bar
BAR_GAP = 2  # between the bars of a group
GROUP_GAP = 14  # between groups
PLOT_WIDTH = 440  # the longest bar
TEXT_ROOM = 190  # after the plot, for the figure written at a bar's end
LEGEND_ROW = 24
SWATCH = 14
PATTERNS = ("solid", "hatch", "dots", "cross", "stripes")


@dataclass(frozen=True)
class Series:
    """One kind of bar: its legend text and its colour class (`p1`…`p4`, `s0`…`s4`)."""

    name: str
    css: str


@dataclass(frozen=True)
class Value:
    """One figure: the bar's length in the chart's unit (None: no bar) and its text."""

    amount: float | None
    text: str


@dataclass(frozen=True)
class Group:
    """One row of bars (a week, a priority, a département…), one value per series."""

    label: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    pattern: int  # index of the series, hence of its fill pattern
    css: str
    text: str
    text_x: float


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Reference:
    """A vertical line across the plot, such as a response time, with its label."""

    x: float
    top: float
    bottom: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float
    pattern: int
    css: str
    text: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_bottom: float
    bars: list[Bar]
    labels: list[Text]
    legend: list[LegendItem]
    patterns: list[tuple[str, str]]  # (pattern kind, colour class) of each series
    reference: Reference | None
    bar_height: int = BAR


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _legend(series: tuple[Series, ...], width: float) -> tuple[list[LegendItem], float]:
    """Legend items laid out in rows across `width`; returns them and the height they take."""
    if len(series) < 2:
        return [], 0
    items, x, y = [], 0.0, 0.0
    for index, one in enumerate(series):
        room = SWATCH + 6 + _text_width(one.name) + 20
        if x and x + room > width:
            x, y = 0.0, y + LEGEND_ROW
        items.append(LegendItem(x, y, index, one.css, one.name))
        x += room
    return items, y + LEGEND_ROW + 8


def _bars(
    groups: list[Group],
    series: tuple[Series, ...],
    left: float,
    top: float,
    unit: float,
    cap: float,
) -> tuple[list[Bar], list[Text], float]:
    """The bars and group labels from `top` down; returns them and the y below the last."""
    bars, labels, y = [], [], top
    per_group = len(series) * (BAR + BAR_GAP) - BAR_GAP
    for group in groups:
        labels.append(Text(left - 8, y + per_group / 2, group.label))
        for index, value in enumerate(group.values):
            length = min(value.amount, cap) * unit if value.amount else 0.0
            bars.append(
                Bar(
                    x=left,
                    y=y + index * (BAR + BAR_GAP),
                    width=round(length, 1),
                    pattern=index,
                    css=series[index].css,
                    text=value.text,
                    text_x=round(left + length + 6, 1),
                )
            )
        y += per_group + GROUP_GAP
    return bars, labels, y - GROUP_GAP


def bar_chart(
    *,
    id_: str,
    title: str,
    description: str,
    series: tuple[Series, ...],
    groups: list[Group],
    maximum: float | None = None,
    reference: tuple[float, str] | None = None,
) -> Chart:
    """Groups as rows of horizontal bars, one bar per series, lengths to a common scale.

    `maximum` is the amount drawn at full length (default: the largest amount); longer
    amounts are drawn at full length and their text says the real figure. `reference` draws a
    vertical line at an amount, with its label above the plot.
    """
    left = max([_text_width(g.label) for g in groups] + [60]) + 16
    width = int(left + PLOT_WIDTH + TEXT_ROOM)
    legend, legend_height = _legend(series, width)
    top = legend_height + (22 if reference else 4)
    amounts = [v.amount for g in groups for v in g.values if v.amount is not None]
    cap = maximum or max([*amounts, 1.0])
    unit = PLOT_WIDTH / cap
    bars, labels, bottom = _bars(groups, series, left, top, unit, cap)
    line = None
    if reference is not None:
        at = round(left + min(reference[0], cap) * unit, 1)
        line = Reference(at, top - 6, bottom + 4, reference[1])
    return Chart(
        id=id_,
        title=title,
        description=description,
        width=width,
        height=int(bottom + 12),
        plot_left=left,
        plot_top=top - 4,
        plot_bottom=bottom + 4,
        bars=bars,
        labels=labels,
        legend=legend,
        patterns=[(PATTERNS[i % len(PATTERNS)], s.css) for i, s in enumerate(series)],
        reference=line,
    )

"""Priority of a report and its response time, computed by the server only.

Rules from the domain vocabulary, first match wins:
P1 immediate danger, or minors together with sexual exploitation or another strong indicator;
P2 minors, or two strong indicators; P3 one strong indicator, or three indicators; P4 the rest.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from vigie.reports.vocabulary import MINOR_INDICATORS, STRONG_INDICATORS

RESPONSE_TIMES: dict[str, timedelta] = {
    "P1": timedelta(minutes=15),
    "P2": timedelta(hours=2),
    "P3": timedelta(hours=24),
    "P4": timedelta(hours=72),
}
PRIORITIES = tuple(RESPONSE_TIMES)


def minors_involved(*, indicators: Collection[str], minors: int | None) -> bool:
    return (minors or 0) >= 1 or any(code in MINOR_INDICATORS for code in indicators)


def compute_priority(
    *,
    indicators: Collection[str],
    exploitation: Collection[str],
    minors: int | None,
    in_immediate_danger: bool,
) -> str:
    strong = {code for code in indicators if code in STRONG_INDICATORS}
    strong_other_than_minor = strong - MINOR_INDICATORS
    with_minors = minors_involved(indicators=indicators, minors=minors)
    if in_immediate_danger or (
        with_minors and ("sexual" in exploitation or strong_other_than_minor)
    ):
        return "P1"
    if with_minors or len(strong) >= 2:
        return "P2"
    if len(strong) == 1 or len(set(indicators)) >= 3:
        return "P3"
    return "P4"

"""The one clock of the application, so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta()


def now() -> datetime:
    """Aware UTC now, shifted by the test offset if any."""
    return datetime.now(UTC) + _offset


def travel(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += timedelta(seconds=seconds)


def reset() -> None:
    global _offset
    _offset = timedelta()


# The instants the API accepts from callers: wide, yet far enough from datetime's own limits
# that converting to UTC or stepping back a period never overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "Must be between 1970-01-01 and 9000-01-01 (UTC)."


def in_range(value: datetime) -> bool:
    """Whether an aware instant lies in [EARLIEST, LATEST)."""
    return EARLIEST <= value < LATEST

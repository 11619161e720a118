"""Time as a dependency: production reads the system clock, tests move a fixed one."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def iso_time(value: datetime) -> str:
    """How every time PIM Warden answers with is written: ISO-8601 in UTC, offset included (`+00:00`).

    A naive value is taken as UTC (Graph documents its timestamps as UTC) rather than sent without an
    offset, which a reader would take as its own local time.
    """
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def iso_time_or_none(value: datetime | None) -> str | None:
    """`iso_time`, or None for no time (an open end)."""
    return None if value is None else iso_time(value)


def json_default(value: object) -> str:
    """`json.dumps(default=...)` for answers: times through `iso_time`, anything else as text."""
    return iso_time(value) if isinstance(value, datetime) else str(value)


def eta_text(seconds: float) -> str:
    """How long something still takes, for people: `<1 min`, `27 min`, `2 h 05 min` (whole minutes,
    rounded up)."""
    if seconds < 60:
        return "<1 min"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"

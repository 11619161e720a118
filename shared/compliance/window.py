"""The time range a report may ask for: sane dates, and a bounded length per HTTP request.

A report reads one Table partition per month of its range, so a range's length is its cost: an HTTP
request may span at most the retention period (nothing older is kept anyway); longer ranges are asked
for in several requests, or streamed by the CLI, which has no length limit. Dates before `EARLIEST`
(older than PIM itself) or more than `AHEAD` in the future are a client's mistake, refused by name
before any date arithmetic can overflow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD: Final = timedelta(days=1)


class BadWindow(ValueError):
    """A report range the service will not read; `parameter` is `from` or `to`."""

    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        super().__init__(reason)


def check_window(start: datetime, end: datetime, now: datetime, max_days: int | None) -> None:
    """Raise BadWindow unless EARLIEST <= start < end <= now + AHEAD and, with `max_days`, the range
    spans at most that many days. All times are timezone-aware."""
    latest = now + AHEAD
    for parameter, value in (("from", start), ("to", end)):
        if not EARLIEST <= value <= latest:
            raise BadWindow(parameter, f"must be between {EARLIEST:%Y-%m-%d} and {latest:%Y-%m-%d} (UTC)")
    if end <= start:
        raise BadWindow("to", "must be later than from")
    if max_days is not None and end - start > timedelta(days=max_days):
        raise BadWindow("to", f"must be at most {max_days} days after from (the retention period); "
                        "ask for a longer range in several requests")

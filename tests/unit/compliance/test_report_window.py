"""Report ranges: sane dates and a bounded length (HTTP), refused by parameter name before any arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.compliance.window import EARLIEST, BadWindow, check_window

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end", "max_days", "parameter"), [
    (datetime(1000, 1, 1, tzinfo=UTC), NOW, None, "from"),
    (EARLIEST - timedelta(microseconds=1), NOW, None, "from"),
    (NOW - timedelta(days=1), datetime(9999, 12, 31, 23, 59, tzinfo=UTC), None, "to"),
    (NOW - timedelta(days=1), NOW + timedelta(days=1, seconds=1), None, "to"),
    (NOW, NOW, None, "to"),
    (NOW - timedelta(days=401), NOW, 400, "to"),
])
def test_refused_ranges_name_the_parameter(
    start: datetime, end: datetime, max_days: int | None, parameter: str
) -> None:
    with pytest.raises(BadWindow) as refused:
        check_window(start, end, NOW, max_days)
    assert refused.value.parameter == parameter


@pytest.mark.parametrize(("start", "end", "max_days"), [
    (EARLIEST, NOW, None),  # the CLI streams any length
    (NOW - timedelta(days=399), NOW + timedelta(days=1), 400),
])
def test_accepted_ranges(start: datetime, end: datetime, max_days: int | None) -> None:
    check_window(start, end, NOW, max_days)

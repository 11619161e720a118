"""Times read from Graph are always timezone-aware UTC, whatever form Graph writes them in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.clock import iso_time
from shared.domain.times import GraphTimeError
from shared.graph.mapping import parse_time


@pytest.mark.parametrize("text", [
    "2025-01-01T09:00:00Z", "2025-01-01T10:00:00+01:00", "2025-01-01T09:00:00.0000000Z",
    "2025-01-01T04:00:00.0000000-05:00",
])
def test_every_form_is_aware_utc(text: str) -> None:
    parsed = parse_time(text)
    assert parsed == datetime(2025, 1, 1, 9, tzinfo=UTC) and parsed.tzinfo is UTC
    assert iso_time(parsed) == "2025-01-01T09:00:00+00:00"


@pytest.mark.parametrize("text", ["2025-01-01T09:00:00", "2025-01-01T09:00:00.0000000"])
def test_a_time_without_a_zone_is_refused_not_guessed(text: str) -> None:
    # Edm.DateTimeOffset always carries its zone; a naive value never reaches the planner
    with pytest.raises(GraphTimeError):
        parse_time(text)

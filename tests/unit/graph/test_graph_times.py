"""Times read from Graph are always timezone-aware UTC, whatever form Graph writes them in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.clock import iso_time
from shared.graph.mapping import parse_time


@pytest.mark.parametrize("text", [
    "2025-01-01T09:00:00Z", "2025-01-01T09:00:00", "2025-01-01T10:00:00+01:00",
    "2025-01-01T09:00:00.0000000Z", "2025-01-01T09:00:00.0000000",
])
def test_every_form_is_aware_utc(text: str) -> None:
    parsed = parse_time(text)
    assert parsed == datetime(2025, 1, 1, 9, tzinfo=UTC) and parsed.tzinfo is UTC
    assert iso_time(parsed) == "2025-01-01T09:00:00+00:00"

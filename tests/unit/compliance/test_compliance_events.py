"""The event model: identity, columns, partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.compliance.events import COLUMNS, EventKind, Source, event_id, format_time, partition_key
from tests.unit.compliance.samples import APP, make_event


def test_event_id_depends_on_source_source_id_and_kind_only() -> None:
    one = make_event(1)
    assert one.event_id == make_event(1, justification="changed later", user_upn=None).event_id
    assert one.event_id != make_event(1, event=EventKind.DEACTIVATED).event_id
    assert one.event_id != make_event(1, source=Source.DIRECTORY_AUDIT).event_id
    assert one.event_id != make_event(2).event_id


@given(source=st.sampled_from(list(Source)), source_id=st.text(), kind=st.sampled_from(list(EventKind)))
def test_event_id_is_stable_and_rowkey_safe(source: Source, source_id: str, kind: EventKind) -> None:
    first = event_id(source, source_id, kind)
    assert first == event_id(str(source), source_id, str(kind))
    assert len(first) == 32 and all(c in "0123456789abcdef" for c in first)


def test_event_id_is_a_fixed_function_across_processes() -> None:
    # hashlib, not hash(): a golden value guards against accidental changes of the identity rule
    golden = "b55e01eb5e341d54992e8070f729c7b8"
    assert event_id(Source.ASSIGNMENT_REQUEST, "r-1", EventKind.ACTIVATED) == golden


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event(time=datetime(2026, 1, 1))


def test_record_has_every_column_in_order_with_utc_z_times() -> None:
    plus_two = timezone(timedelta(hours=2))
    record = make_event(3, time=datetime(2026, 1, 5, 12, 0, tzinfo=plus_two)).to_record()
    assert list(record) == list(COLUMNS)
    assert record["time"] == "2026-01-05T10:00:00Z"
    assert record["event"] == "activated" and record["approver"] is None
    assert record["event_id"] == make_event(3).event_id


def test_format_time_keeps_microseconds_only_when_present() -> None:
    moment = datetime(2026, 1, 5, 10, 0, 0, 500, tzinfo=UTC)
    assert format_time(moment) == "2026-01-05T10:00:00.000500Z"


def test_partition_is_app_and_utc_month() -> None:
    late_new_year = datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert partition_key(APP.app_id, late_new_year) == f"{APP.app_id}:2025-12"
    assert make_event(time=late_new_year).month == "2025-12"

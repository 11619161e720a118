"""Ingest rules: overlapping windows, late entries, crashes: nothing twice, nothing lost."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compliance.events import ComplianceEvent, format_time
from shared.compliance.ingest import DEFAULT_OVERLAP, in_window, plan_batch, query_window
from shared.compliance.mapping import map_directory_audit, request_changed_at
from tests.unit.compliance.samples import CTX, at, audit, make_event

T0 = at("2026-01-05T10:00")
APPROVED = "Add member to role request approved (PIM activation)"


class Crash(Exception):
    """The process died."""


@dataclass
class FakeAuditLog:
    """Entra's audit log: an entry becomes visible `delay` after its activityDateTime."""

    entries: list[tuple[datetime, dict[str, object]]] = field(default_factory=list)

    def add(self, n: int, when: datetime, delay: timedelta = timedelta(0)) -> None:
        entry = audit(APPROVED, id=f"audit-{n}", activityDateTime=format_time(when))
        self.entries.append((when + delay, entry))

    def fetch(self, start: datetime, end: datetime, now: datetime) -> list[dict[str, object]]:
        return [e for visible, e in self.entries if visible <= now
                and start <= datetime.fromisoformat(str(e["activityDateTime"])) <= end]


@dataclass
class Collector:
    """The collector's shell, reduced to the pure rules plus an in-memory store and cursor."""

    log: FakeAuditLog
    stored: dict[str, ComplianceEvent] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    cursor: datetime | None = None

    def run(self, now: datetime, crash_after_writes: int | None = None) -> None:
        window = query_window(self.cursor, now, first_lookback=timedelta(hours=1))
        mapped = [map_directory_audit(e, CTX) for e in self.log.fetch(window.start, window.end, now)]
        batch = plan_batch(window, self.cursor, [e for e in mapped if e], self.stored.__contains__)
        for count, event in enumerate(batch.events):
            if count == crash_after_writes:
                raise Crash
            self.stored[event.event_id] = event
            self.writes.append(event.source_id)
        if crash_after_writes == len(batch.events):
            raise Crash  # stored everything, died before moving the cursor
        self.cursor = batch.cursor_after(self.stored.keys())


def test_first_window_looks_back_and_later_ones_overlap_the_cursor() -> None:
    assert query_window(None, T0).start == T0 - timedelta(days=30)
    window = query_window(T0, T0 + timedelta(minutes=5))
    assert (window.start, window.end) == (T0 - DEFAULT_OVERLAP, T0 + timedelta(minutes=5))
    with pytest.raises(ValueError, match="timezone-aware"):
        query_window(None, datetime(2026, 1, 1))


def test_overlapping_runs_write_each_event_once_in_time_order() -> None:
    log = FakeAuditLog()
    for n, minute in enumerate([7, 1, 4, 9]):
        log.add(n, T0 + timedelta(minutes=minute))
    collector = Collector(log)
    for minutes in (5, 8, 10, 12):
        collector.run(T0 + timedelta(minutes=minutes))
    assert collector.writes == ["audit-1", "audit-2", "audit-0", "audit-3"]


def test_late_entry_inside_the_overlap_is_not_lost() -> None:
    log = FakeAuditLog()
    log.add(1, T0, delay=timedelta(minutes=10))
    collector = Collector(log)
    collector.run(T0 + timedelta(minutes=5))
    assert collector.writes == [] and collector.cursor == T0 + timedelta(minutes=5)
    collector.run(T0 + timedelta(minutes=12))
    assert collector.writes == ["audit-1"]


def test_entry_later_than_the_overlap_is_missed_so_overlap_must_exceed_the_log_delay() -> None:
    log = FakeAuditLog()
    log.add(1, T0, delay=DEFAULT_OVERLAP + timedelta(minutes=10))
    collector = Collector(log)
    for minutes in (5, 20, 30):
        collector.run(T0 + timedelta(minutes=minutes))
    assert collector.writes == []


def test_crash_after_storing_before_cursor_moves_repeats_the_window_without_duplicates() -> None:
    log = FakeAuditLog()
    log.add(1, T0 + timedelta(minutes=1))
    log.add(2, T0 + timedelta(minutes=2))
    collector = Collector(log)
    with pytest.raises(Crash):
        collector.run(T0 + timedelta(minutes=5), crash_after_writes=2)
    assert collector.cursor is None
    collector.run(T0 + timedelta(minutes=6))
    assert collector.writes == ["audit-1", "audit-2"]
    assert collector.cursor == T0 + timedelta(minutes=6)


def test_crash_mid_batch_keeps_cursor_and_the_rerun_writes_the_rest() -> None:
    log = FakeAuditLog()
    for n in range(3):
        log.add(n, T0 + timedelta(minutes=n))
    collector = Collector(log, cursor=T0)
    with pytest.raises(Crash):
        collector.run(T0 + timedelta(minutes=5), crash_after_writes=1)
    assert collector.cursor == T0
    collector.run(T0 + timedelta(minutes=6))
    assert collector.writes == ["audit-0", "audit-1", "audit-2"]


def test_cursor_moves_only_when_every_event_is_stored_and_never_backwards() -> None:
    window = query_window(T0, T0 + timedelta(minutes=5))
    batch = plan_batch(window, T0, [make_event(1), make_event(2)], lambda _: False)
    assert batch.cursor_after({make_event(1).event_id}) == T0
    assert batch.cursor_after({make_event(1).event_id, make_event(2).event_id}) == T0 + timedelta(minutes=5)
    later = T0 + timedelta(hours=1)
    assert plan_batch(window, later, [], lambda _: False).cursor_after(set()) == later


def test_plan_batch_drops_seen_and_repeated_ids() -> None:
    window = query_window(T0, T0)
    batch = plan_batch(window, T0, [make_event(1), make_event(1), make_event(2), make_event(3)],
                       {make_event(3).event_id}.__contains__)
    assert [e.source_id for e in batch.events] == ["request-1", "request-2"]


def test_requests_are_filtered_by_when_they_last_changed() -> None:
    window = query_window(T0, T0 + timedelta(minutes=5))
    old = {"createdDateTime": "2026-01-01T00:00:00Z", "completedDateTime": "2026-01-05T10:01:00Z"}
    stale = {"createdDateTime": "2026-01-01T00:00:00Z", "completedDateTime": "2026-01-01T00:01:00Z"}
    undated: dict[str, str] = {}
    assert in_window([old, stale, undated], window, request_changed_at) == [old, undated]


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=12),
    delays=st.lists(st.integers(min_value=0, max_value=14), min_size=12, max_size=12),
    run_gaps=st.lists(st.integers(min_value=1, max_value=20), min_size=3, max_size=12),
    crashes=st.lists(st.none() | st.integers(min_value=0, max_value=3), min_size=12, max_size=12),
)
def test_any_schedule_of_runs_and_crashes_stores_every_event_exactly_once(
    offsets: list[int], delays: list[int], run_gaps: list[int], crashes: list[int | None]
) -> None:
    log = FakeAuditLog()
    for n, offset in enumerate(offsets):
        log.add(n, T0 + timedelta(minutes=offset), delay=timedelta(minutes=delays[n]))
    collector, now = Collector(log, cursor=T0), T0
    for gap, crash in zip(run_gaps, crashes, strict=False):
        now += timedelta(minutes=gap)
        with contextlib.suppress(Crash):
            collector.run(now, crash_after_writes=crash)
    collector.run(T0 + timedelta(minutes=200))  # a final clean run after everything is visible
    assert sorted(collector.writes) == sorted(f"audit-{n}" for n in range(len(offsets)))

"""Incremental ingest rules: which window to read, what to write, where the cursor may move.

The collector is a loop of: read cursor -> `query_window` -> fetch from Graph -> `plan_batch` ->
store `batch.events` -> store `batch.cursor_after(stored_ids)`. The rules that make it safe:

1. Overlap. The window starts `overlap` before the cursor, because Entra's audit log can show an
   entry minutes after its activityDateTime. An entry that arrives late but inside the overlap is
   read on the next run; the overlap must exceed the audit log's delay.
2. De-duplication. Everything read again (the overlap, a re-run, a retry after a crash) has the
   same `event_id`; `plan_batch` drops ids already stored (an injected `seen` predicate, e.g. a
   point read on the events table) and repeats within the batch.
3. Crash safety. The cursor moves to the window's end only after EVERY event of the batch is
   durably stored, never before. A crash between storing and moving the cursor only means the next
   run reads the same window again and de-duplication skips what was stored: nothing is written
   twice, nothing is lost. A partial store leaves the cursor where it was.
4. The cursor never moves backwards, and never past the window's end (`now` at the start of the run).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

from shared.compliance.events import ComplianceEvent

T = TypeVar("T")

DEFAULT_OVERLAP: Final = timedelta(minutes=15)
DEFAULT_FIRST_LOOKBACK: Final = timedelta(days=30)
"""First run: read back as far as Entra keeps directory audits with P1/P2 (30 days)."""


@dataclass(frozen=True)
class Window:
    """The span of source time one run reads: start <= t <= end (both ends inclusive)."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime | None) -> bool:
        """True when `moment` lies in the window; an unknown moment counts as inside (dedup decides)."""
        return moment is None or self.start <= moment <= self.end


def query_window(
    cursor: datetime | None,
    now: datetime,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    first_lookback: timedelta = DEFAULT_FIRST_LOOKBACK,
) -> Window:
    """The window to read: from `overlap` before the cursor (or `first_lookback` ago) up to now."""
    _require_aware(now, "now")
    if overlap < timedelta(0):
        raise ValueError("overlap must not be negative")
    if cursor is None:
        return Window(now - first_lookback, now)
    _require_aware(cursor, "cursor")
    return Window(min(cursor - overlap, now), now)


@dataclass(frozen=True)
class IngestBatch:
    """What one run must store, oldest first, and the rule for where the cursor goes afterwards."""

    window: Window
    previous_cursor: datetime | None
    events: tuple[ComplianceEvent, ...]

    def cursor_after(self, stored_ids: Collection[str]) -> datetime | None:
        """The next cursor given the ids durably stored this run: the window end only if all were."""
        if any(event.event_id not in stored_ids for event in self.events):
            return self.previous_cursor
        if self.previous_cursor is None:
            return self.window.end
        return max(self.previous_cursor, self.window.end)


def plan_batch(
    window: Window,
    previous_cursor: datetime | None,
    events: Iterable[ComplianceEvent],
    seen: Callable[[str], bool],
) -> IngestBatch:
    """The events not yet stored (first of each id wins), ordered by (time, event_id)."""
    fresh: dict[str, ComplianceEvent] = {}
    for event in events:
        key = event.event_id
        if key not in fresh and not seen(key):
            fresh[key] = event
    ordered = tuple(sorted(fresh.values(), key=lambda e: (e.time, e.event_id)))
    return IngestBatch(window, previous_cursor, ordered)


def in_window(items: Iterable[T], window: Window, position: Callable[[T], datetime | None]) -> list[T]:
    """The source items whose position (e.g. `request_changed_at`) lies in the window."""
    return [item for item in items if window.contains(position(item))]


def _require_aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")

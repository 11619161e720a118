"""A fanned-out tick's counts, ETA and progress line (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.engine.tick_view import progress_line, tick_dict
from shared.storage.ticks import Tick, TickCounts, new_tick_id

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _tick(enqueued: int, **counts: int) -> Tick:
    minutes = counts.pop("minutes", 0)
    last = START + timedelta(minutes=minutes) if minutes else None
    return Tick("t", "timer", START, False, enqueued, TickCounts(**counts, last_at=last))


def test_eta_follows_the_rate_so_far() -> None:
    tick = _tick(10_000, done=3_120, minutes=12)
    assert tick.remaining == 6_880
    assert tick.eta_seconds() == 6_880 * 720 / 3_120
    assert progress_line(tick) == "3,120 of 10,000 apps, ETA 27 min"


def test_no_eta_before_the_first_app_and_done_when_all_finished() -> None:
    assert _tick(5).eta_seconds() is None
    assert progress_line(_tick(5)) == "0 of 5 apps, ETA unknown"
    finished = _tick(5, done=3, failed=1, poisoned=1, minutes=2)
    assert finished.eta_seconds() == 0.0
    assert progress_line(finished) == "5 of 5 apps (1 failed, 1 poisoned), done"


def test_duplicates_never_show_more_than_enqueued() -> None:
    tick = _tick(4, done=6, minutes=1)  # a message delivered twice counts twice
    assert tick.remaining == 0 and progress_line(tick) == "4 of 4 apps, done"


def test_counts_add_up_and_keep_the_latest_time() -> None:
    early = TickCounts(done=1, writes=5, last_at=START)
    late = TickCounts(done=2, throttled=1, last_at=START + timedelta(seconds=3))
    total = early + late
    assert (total.done, total.writes, total.throttled, total.last_at) == (3, 5, 1, late.last_at)
    assert (TickCounts() + TickCounts()).last_at is None


def test_tick_ids_sort_newest_first_and_never_collide() -> None:
    older, newer = new_tick_id(START), new_tick_id(START + timedelta(milliseconds=1))
    assert newer < older
    assert len({new_tick_id(START) for _ in range(100)}) == 100


def test_the_api_view_names_every_count() -> None:
    view = tick_dict(_tick(10, done=4, failed=1, retried=2, writes=20, throttled=1, minutes=5))
    assert view["apps_remaining"] == 5 and view["retries"] == 2 and view["graph_throttled"] == 1
    assert view["eta_seconds"] == 300 and view["started"] == "2026-12-04T09:00:00+00:00"
    assert view["progress"] == "5 of 10 apps (1 failed), ETA 5 min"

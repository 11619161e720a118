"""The progress model (counts, recent rate, ETA) and its text, on a clock the test moves."""

from __future__ import annotations

import pytest

from shared.cli.progress import WINDOW_S, ProgressModel, Snapshot, describe
from shared.clock import eta_text
from shared.engine.reconcile import AppResult, Outcome


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def ok(n: int = 0) -> AppResult:
    return AppResult(f"sp-{n}", Outcome.CHANGED)


def test_describe_reads_as_the_operator_expects() -> None:
    snapshot = Snapshot(done=3120, total=10000, writes=15600, throttled=2, eta_s=26.2 * 60)
    assert describe(snapshot) == "3,120 of 10,000 apps · 15,600 writes · 2 throttled · ETA 27 min"


def test_describe_names_failures_and_leaves_out_an_unknown_or_finished_eta() -> None:
    assert describe(Snapshot(0, 10)) == "0 of 10 apps · 0 writes · 0 throttled"
    assert describe(Snapshot(10, 10, writes=4, failed=2, eta_s=0.0)) == (
        "10 of 10 apps · 4 writes · 0 throttled · 2 failed"
    )


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "<1 min"), (59.9, "<1 min"), (60, "1 min"), (61, "2 min"), (3599, "1 h 00 min"),
    (3600, "1 h 00 min"), (3600 + 5 * 60 + 1, "1 h 06 min"), (26 * 3600, "26 h 00 min"),
])
def test_eta_text_rounds_up_to_whole_minutes(seconds: float, text: str) -> None:
    assert eta_text(seconds) == text


def test_eta_is_unknown_before_the_first_app_and_zero_once_all_are_done() -> None:
    clock = Clock()
    model = ProgressModel(clock)
    model.start(2)
    clock.t += 30
    assert model.eta_s() is None
    model.add(ok(1), requests=5, writes=2, throttled=0)
    assert model.eta_s() == pytest.approx(30.0)  # one app took 30 s, one is left
    clock.t += 10
    model.add(ok(2), requests=3, writes=1, throttled=1)
    assert model.eta_s() == 0.0
    assert model.snapshot() == Snapshot(done=2, total=2, writes=3, throttled=1, failed=0, eta_s=0.0)
    assert model.requests == 8


def test_an_empty_run_is_done_at_once() -> None:
    model = ProgressModel(Clock())
    model.start(0)
    assert model.eta_s() == 0.0
    assert describe(model.snapshot()) == "0 of 0 apps · 0 writes · 0 throttled"


def test_eta_follows_the_recent_rate_when_graph_slows_down_and_recovers() -> None:
    clock = Clock()
    model = ProgressModel(clock)
    model.start(200)
    for n in range(60):  # one app a second
        clock.t += 1
        model.add(ok(n), 1, 0, 0)
    assert model.eta_s() == pytest.approx(140.0)
    for n in range(10):  # then throttled: one app every 10 s
        clock.t += 10
        model.add(ok(n), 1, 0, 1)
    # The last minute saw 6 apps: 130 left take 1300 s (the whole run's average would say 297 s).
    assert model.eta_s() == pytest.approx(130 * WINDOW_S / 6)
    for n in range(70):  # and one a second again: after a minute the slow spell is forgotten
        clock.t += 1
        model.add(ok(n), 1, 0, 0)
    assert model.eta_s() == pytest.approx(60.0)


def test_a_stalled_run_has_a_growing_eta() -> None:
    clock = Clock()
    model = ProgressModel(clock)
    model.start(10)
    for n in range(5):
        clock.t += 1
        model.add(ok(n), 1, 0, 0)
    before = model.eta_s()
    clock.t += 20  # nothing finishes (a long Retry-After)
    after = model.eta_s()
    assert before == pytest.approx(5.0) and after == pytest.approx(25.0)


def test_failed_apps_are_counted_as_the_summary_counts_them() -> None:
    model = ProgressModel(Clock())
    model.start(4)
    for outcome in (Outcome.FAILED, Outcome.DEFERRED, Outcome.SKIPPED, Outcome.UNCHANGED):
        model.add(AppResult("sp", outcome), 0, 0, 0)
    assert model.failed == 2

"""Progress on stderr: redrawn in place on a terminal (at most 4 times a second, cleared at the end),
plain lines at a log-friendly pace elsewhere."""

from __future__ import annotations

import io
import logging
import os

import pytest

from shared.cli import progress_display
from shared.cli.progress_display import CLEAR_LINE, LineProgress, TerminalProgress
from shared.engine.reconcile import AppResult, Outcome


class Clock:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def done(sink: TerminalProgress | LineProgress, clock: Clock, apps: int, every_s: float) -> None:
    for n in range(apps):
        clock.t += every_s
        sink.app_done(AppResult(f"sp-{n}", Outcome.CHANGED), requests=3, writes=2, throttled=n % 2)


def test_a_terminal_gets_one_line_redrawn_at_most_four_times_a_second_then_cleared() -> None:
    stream, clock = FakeTerminal(), Clock()
    sink = TerminalProgress(stream, clock)
    sink.started(512)
    done(sink, clock, 512, every_s=1 / 128)  # 4 s of apps, 128 a second
    sink.finish()
    text = stream.getvalue()
    assert "\n" not in text
    frames = text.split(CLEAR_LINE)
    assert frames[0] == "" and frames[-1] == ""  # drawn after a carriage return; cleared at the end
    drawn = frames[1:-1]
    assert drawn[0] == "0 of 512 apps · 0 writes · 0 throttled"
    assert len(drawn) == 1 + 4 * 4  # 4 s of work, redrawn every 0.25 s
    assert drawn[1] == "32 of 512 apps · 64 writes · 16 throttled · ETA <1 min"
    assert drawn[-1] == "512 of 512 apps · 1,024 writes · 256 throttled"


def test_a_narrow_terminal_gets_the_line_cut_so_it_never_wraps() -> None:
    stream = FakeTerminal()
    sink = TerminalProgress(stream, Clock(), width=lambda: 12)
    sink.started(10_000)
    assert stream.getvalue() == CLEAR_LINE + "0 of 10,000"


def test_nothing_is_written_or_cleared_for_a_run_that_never_started() -> None:
    stream = FakeTerminal()
    TerminalProgress(stream, Clock()).finish()
    LineProgress(stream, Clock()).finish()
    assert stream.getvalue() == ""


def test_a_log_gets_a_line_per_tenth_never_two_within_five_seconds_and_the_final_count() -> None:
    stream, clock = io.StringIO(), Clock()
    sink = LineProgress(stream, clock)
    sink.started(1000)
    done(sink, clock, 1000, every_s=0.06)  # 60 s: a tenth every 6 s
    sink.finish()
    lines = stream.getvalue().splitlines()
    assert all(line.startswith("progress: ") for line in lines)
    counts = [line.removeprefix("progress: ").split(" of ")[0] for line in lines]
    assert counts == ["0", "100", "200", "300", "400", "500", "600", "700", "800", "900", "1,000"]
    assert lines[-1] == "progress: 1,000 of 1,000 apps · 2,000 writes · 500 throttled"


def test_a_fast_run_logs_no_more_than_a_line_per_five_seconds() -> None:
    stream, clock = io.StringIO(), Clock()
    sink = LineProgress(stream, clock)
    sink.started(1000)
    done(sink, clock, 1000, every_s=0.002)  # all ten tenths within 2 s
    assert len(stream.getvalue().splitlines()) == 1
    sink.finish()
    assert stream.getvalue().splitlines()[-1].startswith("progress: 1,000 of 1,000 apps")


def test_a_slow_run_logs_a_line_a_minute_between_tenths() -> None:
    stream, clock = io.StringIO(), Clock()
    sink = LineProgress(stream, clock)
    sink.started(10_000)
    done(sink, clock, 100, every_s=6.0)  # 600 s for 1% of the apps
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 + 10
    # 9,990 apps left at 6 s each
    assert lines[1] == "progress: 10 of 10,000 apps · 20 writes · 5 throttled · ETA 16 h 39 min"


@pytest.mark.parametrize(("tty", "term", "kind"), [
    (True, "xterm-256color", TerminalProgress), (True, "dumb", LineProgress), (False, "xterm", LineProgress),
])
def test_for_stream_draws_in_place_only_on_a_capable_terminal(
    monkeypatch: pytest.MonkeyPatch, tty: bool, term: str, kind: type
) -> None:
    monkeypatch.setenv("TERM", term)
    stream = FakeTerminal() if tty else io.StringIO()
    assert isinstance(progress_display.for_stream(stream), kind)


def test_a_log_message_gets_a_line_of_its_own_above_the_progress_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # logging unconfigured, as in the CLI
    stream, clock = FakeTerminal(), Clock()
    sink = TerminalProgress(stream, clock)
    with progress_display.logs_above(sink):
        sink.started(3)
        logging.getLogger("pimwarden.enforce").warning("reconcile of %s deferred: %s", "sp-1", "OSError")
        logging.getLogger("pimwarden.enforce").info("not shown")
    logging.getLogger("pimwarden.enforce").warning("after the run")  # the handler is gone again
    line = "0 of 3 apps · 0 writes · 0 throttled"
    assert stream.getvalue() == (
        f"{CLEAR_LINE}{line}{CLEAR_LINE}reconcile of sp-1 deferred: OSError\n{CLEAR_LINE}{line}"
    )


def test_configured_logging_and_log_streams_are_left_alone() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    with progress_display.logs_above(LineProgress(io.StringIO(), Clock())):
        assert root.handlers == before


def test_a_terminal_of_unknown_width_gets_the_usual_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    # A pseudo-terminal nobody sized (a CI runner's, `script`'s) says 0 columns; the line still shows.
    monkeypatch.setattr(progress_display.os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))
    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.setenv("TERM", "xterm")

    class SizelessTerminal(FakeTerminal):
        def fileno(self) -> int:
            return 2

    stream = SizelessTerminal()
    sink = progress_display.for_stream(stream)
    sink.started(10)
    assert stream.getvalue() == CLEAR_LINE + "0 of 10 apps · 0 writes · 0 t"

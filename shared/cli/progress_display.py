"""Drawing a run's progress on stderr: one line redrawn in place on a terminal, plain lines elsewhere.

A terminal gets the line redrawn after a carriage return at most REDRAW_S apart, cleared before the
summary is printed. A log (CI, a pipe, a file) gets `progress: ...` lines: one when the run starts,
then one per 10% or per HEARTBEAT_S seconds, never two within MIN_GAP_S, and the final count.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from shared.cli.progress import Clock, ProgressModel, describe
from shared.engine.reconcile import AppResult

REDRAW_S = 0.25
MIN_GAP_S = 5.0
HEARTBEAT_S = 60.0
CLEAR_LINE = "\r\x1b[K"  # back to the line's start, erase to its end


class TerminalProgress:
    """One line, redrawn in place (a ProgressSink)."""

    def __init__(self, stream: TextIO, clock: Clock = time.monotonic,
                 width: Callable[[], int] = lambda: 80) -> None:
        self._stream, self._clock, self._width = stream, clock, width
        self.model = ProgressModel(clock)
        self._drawn_at: float | None = None

    def started(self, total: int) -> None:
        self.model.start(total)
        self._draw()

    def app_done(self, result: AppResult, requests: int, writes: int, throttled: int) -> None:
        self.model.add(result, requests, writes, throttled)
        if self._drawn_at is None or self._clock() - self._drawn_at >= REDRAW_S:
            self._draw()

    def finish(self) -> None:
        """Clear the line (the summary follows on a clean line)."""
        if self._drawn_at is not None:
            self._stream.write(CLEAR_LINE)
            self._stream.flush()
            self._drawn_at = None

    def print_above(self, text: str) -> None:
        """A line of its own (a log message), with the progress line drawn again below it."""
        if self._drawn_at is None:
            self._stream.write(text + "\n")
            return
        self._stream.write(CLEAR_LINE + text + "\n")
        self._draw()

    def _draw(self) -> None:
        # Cut to the terminal's width: a line that wrapped could not be redrawn in place.
        text = describe(self.model.snapshot())[: max(self._width() - 1, 0)]
        self._stream.write(CLEAR_LINE + text)
        self._stream.flush()
        self._drawn_at = self._clock()


class LineProgress:
    """Plain `progress: ...` lines for logs (a ProgressSink)."""

    def __init__(self, stream: TextIO, clock: Clock = time.monotonic) -> None:
        self._stream, self._clock = stream, clock
        self.model = ProgressModel(clock)
        self._written: tuple[float, int] | None = None  # (when, apps done) of the last line

    def started(self, total: int) -> None:
        self.model.start(total)
        self._write()

    def app_done(self, result: AppResult, requests: int, writes: int, throttled: int) -> None:
        self.model.add(result, requests, writes, throttled)
        if self._written is None:
            return
        when, done = self._written
        gap = self._clock() - when
        tenth = max(self.model.total // 10, 1)
        if gap >= MIN_GAP_S and (self.model.done // tenth > done // tenth or gap >= HEARTBEAT_S):
            self._write()

    def finish(self) -> None:
        """The final count, unless the last line already said it."""
        if self._written is not None and self._written[1] != self.model.done:
            self._write()

    def _write(self) -> None:
        self._stream.write(f"progress: {describe(self.model.snapshot())}\n")
        self._stream.flush()
        self._written = (self._clock(), self.model.done)


class _AboveTheLine(logging.Handler):
    """Log records as Python prints them when logging is not configured (the message, WARNING and up),
    each on a line of its own above the progress line instead of run into it."""

    def __init__(self, display: TerminalProgress) -> None:
        super().__init__(logging.WARNING)
        self._display = display

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._display.print_above(self.format(record))
        except Exception:
            self.handleError(record)


@contextmanager
def logs_above(display: TerminalProgress | LineProgress) -> Iterator[None]:
    """While a terminal shows `display`, unconfigured logging (the CLI's) prints above its line."""
    root = logging.getLogger()
    if not isinstance(display, TerminalProgress) or root.hasHandlers():
        yield
        return
    handler = _AboveTheLine(display)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def for_stream(stream: TextIO, clock: Clock = time.monotonic) -> TerminalProgress | LineProgress:
    """In-place progress on a terminal, plain lines on anything else (or a terminal that cannot erase)."""
    if stream.isatty() and os.environ.get("TERM") != "dumb":
        return TerminalProgress(stream, clock, lambda: _columns(stream))
    return LineProgress(stream, clock)


def _columns(stream: TextIO) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):  # not a real terminal after all (or closed)
        columns = 0
    # A pseudo-terminal nobody gave a size answers 0 columns: then the usual guess (COLUMNS, or 80).
    return columns if columns > 0 else shutil.get_terminal_size().columns

"""Where a run reports its progress while it reconciles apps (the CLI draws it; timers pass nothing).

The Graph numbers are the requests sent since the previous report, so a sink that adds them up has the
run's reconcile totals. They are not one app's own: the apps of a run share one counter, because a
counter of their own would keep their reads out of each other's JSON batches (shared/graph/batching.py).
"""

from __future__ import annotations

from typing import Protocol

from shared.engine.reconcile import AppResult


class ProgressSink(Protocol):
    """Told how many apps a run will reconcile, then of each app as it finishes."""

    def started(self, total: int) -> None:
        """The run will reconcile `total` apps (fewer finish when the run budget runs out)."""

    def app_done(self, result: AppResult, requests: int, writes: int, throttled: int) -> None:
        """One app finished; Graph requests, writes and 429 answers since the previous call."""

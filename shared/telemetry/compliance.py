"""Compliance trail metrics: how far behind the collector is, how many report rows were served."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.telemetry import metrics


def collector_lag(now: datetime, cursors: Iterable[datetime | None]) -> None:
    """Now minus the oldest app cursor after a collection (nothing while no app has one)."""
    known = [c for c in cursors if c is not None]
    if known:
        metrics.record("pimwarden.collector.lag", max((now - min(known)).total_seconds(), 0.0))


def report_rows(count: int, fmt: str) -> None:
    """Rows in one report page served."""
    metrics.add("pimwarden.report.rows", count, format=fmt)

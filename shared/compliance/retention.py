"""Retention: delete only what is older than the retention period (default 400 days), nothing newer.

Events are stored in month partitions (`{app_id}:{YYYY-MM}`). With cutoff = now - retention days:
a month whose LAST instant is before the cutoff is entirely older and is deleted whole (cheap:
one partition; a malformed month name is never deleted); the month containing the cutoff is the
boundary month, where only events with time < cutoff are deleted; later months are kept.
When the cutoff falls exactly on the first instant of a month there is no boundary month.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from shared.compliance.events import month_of

DEFAULT_RETENTION_DAYS: Final = 400


@dataclass(frozen=True)
class RetentionPlan:
    """Months to drop whole, the boundary month (if any) and the cutoff for it."""

    cutoff: datetime
    whole_months: tuple[str, ...]
    boundary_month: str | None

    def is_expired(self, moment: datetime) -> bool:
        """True when an event at `moment` is older than the cutoff (to be deleted)."""
        return moment < self.cutoff


def retention_cutoff(now: datetime, days: int = DEFAULT_RETENTION_DAYS) -> datetime:
    """now - days: events strictly before it are deleted."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if days < 1:
        raise ValueError(f"retention must be at least one day, got {days}")
    return now.astimezone(UTC) - timedelta(days=days)


def plan_retention(now: datetime, months: Iterable[str], days: int = DEFAULT_RETENTION_DAYS) -> RetentionPlan:
    """Which of the stored `YYYY-MM` months go entirely, and where the boundary month is cut."""
    cutoff = retention_cutoff(now, days)
    cut_month = month_of(cutoff)
    starts_month = cutoff == month_start(cut_month)
    whole = sorted({m for m in months if _is_month(m) and m < cut_month})
    return RetentionPlan(cutoff, tuple(whole), None if starts_month else cut_month)


def month_start(month: str) -> datetime:
    """First instant (UTC) of a `YYYY-MM` month; ValueError when malformed."""
    return datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)


def _is_month(text: str) -> bool:
    """Only well-formed months are ever deleted: a partition we cannot read is kept."""
    try:
        return month_start(text).strftime("%Y-%m") == text
    except ValueError:
        return False

"""What enforcement runs and app reconciles report: span attributes and metrics from plain values
(no engine import, so the engine can import this)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from shared.telemetry import metrics
from shared.telemetry.metrics import DriftCount
from shared.telemetry.tracing import annotate


def run_finished(
    *, cause: str, full: bool, elapsed_s: float, not_reached: int, outcomes: Iterable[str]
) -> None:
    """An enforcement run ended: its span attributes, duration and apps left for the next run."""
    counts = Counter(outcomes)
    annotate(full=full, not_reached=not_reached, **{f"apps.{k}": v for k, v in sorted(counts.items())})
    kind = "full" if full else "tick"
    metrics.record("pimwarden.enforce.duration", elapsed_s, cause=_cause_kind(cause), run=kind)
    metrics.add("pimwarden.enforce.not_reached", not_reached, run=kind)


def tick_dispatched(*, cause: str, full: bool, elapsed_s: float, found: int, enqueued: int) -> None:
    """A fanned-out tick gathered its signals and enqueued its apps (the workers report per app)."""
    annotate(full=full, apps_found=found, apps_enqueued=enqueued)
    kind = "full" if full else "tick"
    metrics.record("pimwarden.enforce.duration", elapsed_s, cause=_cause_kind(cause), run=kind)
    metrics.add("pimwarden.dispatch.enqueued", enqueued, run=kind)


def message_poisoned() -> None:
    """The queue gave up on a reconcile message (it is recorded; its app is looked at again later)."""
    metrics.add("pimwarden.reconcile.poisoned", 1)


def apps_by_status(statuses: Iterable[str]) -> None:
    """How many apps PIM Warden knows, by status."""
    for status, count in sorted(Counter(statuses).items()):
        metrics.record("pimwarden.apps", count, status=status)


def reconcile_finished(
    *, outcome: str, planned: int, drift: Sequence[DriftCount], dry_run: bool
) -> None:
    """One app's reconcile ended: outcome, actions planned, drift kinds (comma-separated, so a query
    can split them); drift metrics, and the kinds repaired, when the plan was applied in full."""
    applied = not dry_run and outcome in ("changed", "unchanged")
    repaired = sorted({d.kind for d in drift if d.repaired}) if applied else []
    annotate(
        outcome=outcome,
        actions_planned=planned,
        drift_kinds=",".join(sorted({d.kind for d in drift})),
        drift_repaired=",".join(repaired),
    )
    if not dry_run:
        metrics.drift(drift, applied=applied)


def _cause_kind(cause: str) -> str:
    # Causes name a ticket or an operator ("ticket:generic:RITM1"): only the kind is a metric dimension.
    return cause.split(":", 1)[0][:32]

"""One tick of enforcement: gather change signals, reconcile the apps they name, summarise.

Found apps are made durable in the due list BEFORE any cursor moves, and taken off it only once
reconciled, so a crash or the run budget never loses work: the next tick continues where this one
stopped. Apps run with bounded concurrency; no new app starts once the budget is spent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from shared.engine.gather import Target, gather
from shared.engine.progress import ProgressSink
from shared.engine.reconcile import UNKNOWN, AppResult, Outcome, reconcile_app
from shared.engine.schedule import DueSchedule
from shared.engine.services import Services
from shared.engine.signals import PendingCursor, move_cursors
from shared.graph.counting import CallStats, counting
from shared.graph.errors import PermissionMissingError
from shared.permissions.status import PermissionStatus
from shared.permissions.status import save as save_permission_status
from shared.telemetry.metrics import DriftCount
from shared.telemetry.runs import reconcile_finished, run_finished
from shared.telemetry.tracing import AttributeValue, span

log = logging.getLogger("pimwarden.enforce")


@dataclass
class RunSummary:
    """What one run did."""

    cause: str
    full: bool = False
    dry_run: bool = False
    results: list[AppResult] = field(default_factory=list)
    graph_requests: int = 0
    graph_writes: int = 0
    elapsed_s: float = 0.0
    not_reached: int = 0
    blocked: str | None = None  # the permission refusal that stopped discovery (nothing reconciled)
    blocked_permissions: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def missing_permissions(self) -> tuple[str, ...]:
        """Manifest permissions Graph refused this run's calls for (discovery's and every app's)."""
        names = set(self.blocked_permissions)
        for result in self.results:
            names.update(result.missing_permissions)
        return tuple(sorted(names))

    def permission_status(self, now: datetime) -> PermissionStatus:
        """What health shows of this run: the permissions to grant, the refused calls, the warnings."""
        refused = {r.error for r in self.results if r.missing_permissions and r.error}
        if self.blocked:
            refused.add(self.blocked)
        return PermissionStatus(now, self.missing_permissions, tuple(sorted(refused)), tuple(self.warnings))

    def count(self, *outcomes: Outcome) -> int:
        """How many apps ended in one of `outcomes`."""
        return sum(1 for r in self.results if r.outcome in outcomes)

    @property
    def seen(self) -> int:
        return len(self.results) - self.count(Outcome.NOT_MANAGED, Outcome.REFUSED)

    @property
    def drifted(self) -> int:
        return sum(1 for r in self.results if r.drifted)

    @property
    def failed(self) -> int:
        return self.count(Outcome.FAILED, Outcome.DEFERRED, Outcome.UNREADABLE)

    @property
    def changed(self) -> int:
        """Apps this run changed (a failed app that made writes first counts too); in a dry run, the
        apps that would change."""
        if self.dry_run:
            return self.count(Outcome.CHANGED)
        return sum(1 for r in self.results if r.applied)

    @property
    def applied(self) -> int:
        """Actions carried out, over all apps."""
        return sum(r.applied for r in self.results)

    def count_with_changes(self) -> int:
        """How many apps have (or, in a dry run, would have) changes."""
        return sum(1 for r in self.results if r.has_changes)

    def line(self) -> str:
        """The one-line summary the timer logs."""
        return (
            f"enforce cause={self.cause} full={str(self.full).lower()} dry_run={str(self.dry_run).lower()} "
            f"apps_seen={self.seen} changed={self.changed} drifted={self.drifted} "
            f"failed={self.failed} skipped={self.count(Outcome.SKIPPED)} not_reached={self.not_reached} "
            f"refused={self.count(Outcome.REFUSED)} "
            f"graph_requests={self.graph_requests} graph_writes={self.graph_writes} "
            f"actions_applied={self.applied} elapsed_s={self.elapsed_s:.1f} "
            f"state_unreadable={self.count(Outcome.UNREADABLE)}"
            + self._permission_words()
        )

    def _permission_words(self) -> str:
        missing = self.missing_permissions
        words = f" missing_permissions={','.join(missing)}" if missing else ""
        words += " blocked=true" if self.blocked else ""
        return words + "".join(f" warning={w!r}" for w in self.warnings)


async def enforce(
    services: Services,
    cause: str,
    *,
    only_app: str | None = None,
    full: bool = False,
    dry_run: bool = False,
    budget_s: float | None = None,
    progress: ProgressSink | None = None,
) -> RunSummary:
    """Run one enforcement tick (or one app, or a dry run that writes nothing); return its summary.
    `progress`, when given, is told the number of apps to reconcile and of each app as it finishes."""
    started = time.monotonic()
    summary = RunSummary(cause, full=full or dry_run, dry_run=dry_run)
    with span("pimwarden.enforce", {"pimwarden.cause": cause, "pimwarden.dry_run": dry_run}):
        with counting() as calls:  # this run's own requests, even when another run overlaps it
            await _enforce(
                services, summary, only_app, full, dry_run, started + _budget(services, budget_s), progress
            )
        summary.graph_requests, summary.graph_writes = calls.requests, calls.writes
        summary.elapsed_s = time.monotonic() - started
        run_finished(
            cause=cause, full=summary.full, elapsed_s=summary.elapsed_s, not_reached=summary.not_reached,
            outcomes=(r.outcome.value for r in summary.results),
        )
    return summary


def _budget(services: Services, budget_s: float | None) -> float:
    return budget_s if budget_s is not None else float(services.settings.run_budget_seconds)


async def _enforce(
    services: Services,
    summary: RunSummary,
    only_app: str | None,
    full: bool,
    dry_run: bool,
    deadline: float,
    progress: ProgressSink | None = None,
) -> None:
    now = services.clock.now()
    if only_app is not None:
        targets: dict[str, Target] = {only_app: UNKNOWN}
        pending: list[PendingCursor] = []
    else:
        try:
            targets, pending, summary.full = await gather(services, now, full or dry_run, summary.warnings)
        except PermissionMissingError as error:
            # Nothing can be reconciled safely without discovery: say so loudly, keep every cursor.
            log.error("enforcement blocked: %s", error)
            summary.blocked, summary.blocked_permissions = str(error), error.permissions
            if not dry_run:
                await save_permission_status(
                    services.store.cursors, summary.permission_status(now), complete=False
                )
            return
    schedule = DueSchedule(services.store.cursors)
    if not dry_run and targets and only_app is None:
        await schedule.update(now, set_due=dict.fromkeys(targets, now))
    if not dry_run:
        await move_cursors(services.store.cursors, pending, now)
    summary.results = await _run_all(services, targets, summary.cause, dry_run, deadline, progress)
    summary.not_reached = len(targets) - len(summary.results)
    if not dry_run:
        await _finish(services, schedule, summary, now, complete=summary.not_reached == 0)
        complete = summary.full and summary.not_reached == 0 and only_app is None
        status = summary.permission_status(now)
        await save_permission_status(services.store.cursors, status, complete=complete)
    for result in summary.results:
        if result.missing_permissions:
            log.error("reconcile of %s refused: %s", result.service_principal_id, result.error)


async def _run_all(
    services: Services, targets: dict[str, Target], cause: str, dry_run: bool, deadline: float,
    progress: ProgressSink | None = None,
) -> list[AppResult]:
    gate = asyncio.Semaphore(services.config.concurrency)
    results: list[AppResult] = []
    reported = CallStats()  # what `progress` has been told of so far
    # One counter for all apps, never one each: the batcher keeps reads of different counters apart.
    with counting() as calls:

        async def one(sp_id: str, sp: Target) -> None:
            async with gate:
                if time.monotonic() >= deadline:
                    return  # budget spent: the app stays on the due list for the next tick
                results.append(result := await _guarded(services, sp_id, sp, cause, dry_run))
                if progress is not None:
                    progress.app_done(result, *_since(reported, calls))

        if progress is not None:
            progress.started(len(targets))
        await asyncio.gather(*(one(sp_id, sp) for sp_id, sp in sorted(targets.items(), key=lambda t: t[0])))
    return results


def _since(reported: CallStats, now: CallStats) -> tuple[int, int, int]:
    """Requests, writes and 429s counted in `now` and not yet in `reported` (which catches up)."""
    new = (now.requests - reported.requests, now.writes - reported.writes, now.throttled - reported.throttled)
    reported.requests, reported.writes, reported.throttled = now.requests, now.writes, now.throttled
    return new


async def _guarded(services: Services, sp_id: str, sp: Target, cause: str, dry_run: bool) -> AppResult:
    return await reconcile_guarded(services, sp_id, cause, sp=sp, dry_run=dry_run)


async def reconcile_guarded(
    services: Services, sp_id: str, cause: str, *, sp: Target = UNKNOWN, dry_run: bool = False
) -> AppResult:
    """Reconcile one app; an unexpected error (storage, a bug) is this app's failure, not the caller's."""
    attributes: dict[str, AttributeValue] = {
        "pimwarden.app.id": sp_id, "pimwarden.cause": cause, "pimwarden.dry_run": dry_run
    }
    with span("pimwarden.reconcile", attributes):
        try:
            result = await reconcile_app(services, sp_id, cause, sp=sp, dry_run=dry_run)
        except Exception as error:
            log.warning("reconcile of %s deferred: %s", sp_id, type(error).__name__)
            result = AppResult(
                sp_id, Outcome.DEFERRED, error=f"{type(error).__name__}: {error}", due=services.clock.now()
            )
        if result.outcome is Outcome.FAILED:
            log.error("reconcile of %s failed: %s", sp_id, result.error)
        plan = result.plan
        reconcile_finished(
            outcome=result.outcome.value,
            planned=len(plan.actions) if plan else 0,
            drift=[DriftCount(d.kind.value, d.repaired) for d in plan.drift] if plan else [],
            dry_run=dry_run,
        )
    return result


async def _finish(
    services: Services, schedule: DueSchedule, summary: RunSummary, now: datetime, *, complete: bool
) -> None:
    changes: dict[str, datetime | None] = {}
    for result in summary.results:
        if result.outcome is Outcome.SKIPPED:
            continue  # the lease holder is on it; the entry stays until it is done
        changes[result.service_principal_id] = result.due
    if changes or (summary.full and complete):
        await schedule.update(now, set_due=changes, clear_overflow=summary.full and complete)

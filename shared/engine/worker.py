"""The queue trigger's half of a fanned-out tick: reconcile one app, count it, say whether to retry.

Retries belong to the queue, the documented way: an app that ends transient (a Graph or storage
hiccup, a throttle pause too long to wait out, or its lease held by another worker) raises
`RetryLater`, so the host makes the message visible again after host.json's `visibilityTimeout` and,
after `maxDequeueCount` attempts, moves it to the poison queue (`record_poisoned`). A permanent
failure is recorded on the app (reconcile does that) and the message completes: retrying cannot help.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.engine.reconcile import AppResult, Outcome
from shared.engine.run import reconcile_guarded
from shared.engine.schedule import DueSchedule
from shared.engine.services import Services
from shared.graph.counting import counting
from shared.permissions.status import PermissionStatus
from shared.permissions.status import save as save_permission_status
from shared.storage import TENANT_SCOPE, AuditEvent, ConcurrencyError, Cursor
from shared.storage.errors import AlreadyExistsError, StorageError
from shared.storage.ticks import TickCounts, TickProgress
from shared.telemetry.runs import message_poisoned

log = logging.getLogger("pimwarden.reconcile")
RETRY_OUTCOMES = frozenset({Outcome.DEFERRED, Outcome.SKIPPED})
POISON_CURSOR = "reconcile-poison"
POISON_RETRY = timedelta(hours=1)  # a poisoned app is looked at again by the tick after this
_RECENT = 20


class RetryLater(Exception):
    """This app's reconcile ended transient: let the queue deliver the message again later."""


async def reconcile_one(
    services: Services, app_id: str, cause: str, *, tick_id: str | None = None,
    progress: TickProgress | None = None,
) -> AppResult:
    """Reconcile `app_id`; keep its due-list entry and its tick's counts true; RetryLater if transient."""
    if tick_id is not None:
        # Before anything is read: a change that lands while this reconcile runs must be free to be
        # queued again by the next tick, or it would wait for the full audit.
        await _guarded(services.store.ticks.unmark_queued(app_id), "queued marker", app_id)
    with counting() as calls:
        result = await reconcile_guarded(services, app_id, cause)
    if result.outcome not in RETRY_OUTCOMES:
        await _settle_due(services, result)
    if result.missing_permissions:
        status = PermissionStatus(services.clock.now(), result.missing_permissions, (result.error or "",))
        await save_permission_status(services.store.cursors, status, complete=False)
    if tick_id is not None and progress is not None:
        # The tick's counts only inform people: losing them to a storage hiccup must not fail (and so
        # repeat) a reconcile that is already recorded.
        counts = _counts(result, calls.requests, calls.writes, calls.throttled, services.clock.now())
        await _guarded(progress.add(tick_id, counts), f"tick {tick_id} progress", app_id)
    if result.outcome in RETRY_OUTCOMES:
        raise RetryLater(f"reconcile of {app_id} {result.outcome.value}: {_kind(result.error)}")
    return result


def _kind(error: str | None) -> str:
    # The host logs this message: the error's class ("TransientGraphError: ...") without its text.
    return error.split(":", 1)[0][:80] if error else "lease held by another worker"


async def _settle_due(services: Services, result: AppResult) -> None:
    # One point read per app; a write only when this app is on the due list or needs to be. Most apps
    # of a big onboarding are on neither, so workers do not contend for the one due-list entity.
    schedule = DueSchedule(services.store.cursors)
    listed = result.service_principal_id in (await schedule.read()).entries
    if listed or result.due is not None:
        await schedule.update(services.clock.now(), set_due={result.service_principal_id: result.due})


async def _guarded(step: Awaitable[None], what: str, app_id: str) -> None:
    """Run an informational storage step; a storage failure is logged (its type only), not raised."""
    try:
        await step
    except StorageError as error:
        log.warning("%s not recorded for %s: %s", what, app_id, type(error).__name__)


def _counts(result: AppResult, requests: int, writes: int, throttled: int, now: datetime) -> TickCounts:
    outcome = result.outcome
    return TickCounts(
        done=int(outcome not in RETRY_OUTCOMES and outcome not in (Outcome.FAILED, Outcome.UNREADABLE)),
        changed=int(result.applied > 0),
        failed=int(outcome in (Outcome.FAILED, Outcome.UNREADABLE)),
        retried=int(outcome in RETRY_OUTCOMES),
        throttled=throttled, writes=writes, requests=requests, last_at=now,
    )


@dataclass(frozen=True)
class Poisoned:
    """A reconcile message that exhausted its attempts."""

    cause: str
    app_id: str | None
    tick_id: str | None
    attempts: int


async def record_poisoned(
    services: Services, poisoned: Poisoned, progress: TickProgress | None = None
) -> None:
    """Record a message the queue gave up on: the app's record, the audit table, the poison summary
    health shows, the tick's counts; the app is due again after POISON_RETRY, so it is not forgotten."""
    now = services.clock.now()
    why = (f"reconcile gave up after {poisoned.attempts} attempts (message moved to the poison queue); "
           f"looked at again after {now + POISON_RETRY:%Y-%m-%d %H:%M} UTC")
    store, app = services.store, poisoned.app_id
    if app is not None:  # first: whatever fails after this, the app is looked at again
        await DueSchedule(store.cursors).update(now, set_due={app: now + POISON_RETRY})
    await store.audit.append(AuditEvent(
        when=now, app_id=app or TENANT_SCOPE, action="ReconcileAbandoned", cause=poisoned.cause,
        outcome="failed", detail=why,
    ))
    if app is not None:
        await _mark_record(services, app, why)
    await _guarded(_remember_poison(services, app or TENANT_SCOPE, now), "poison summary", app or "-")
    if poisoned.tick_id is not None and progress is not None:
        await _guarded(progress.add(poisoned.tick_id, TickCounts(poisoned=1, last_at=now)),
                       f"tick {poisoned.tick_id} progress", app or "-")
    message_poisoned()
    log.error("reconcile message abandoned after %d attempts app=%s", poisoned.attempts, app or "-")


async def _mark_record(services: Services, app_id: str, why: str) -> None:
    apps = services.store.apps
    for _ in range(3):
        record = await apps.find(app_id)
        if record is None:
            return  # never reconciled: the audit row and the poison summary say it
        with contextlib.suppress(ConcurrencyError):
            await apps.update(replace(record, last_error=why))
            return


async def _remember_poison(services: Services, app_id: str, now: datetime) -> None:
    cursors = services.store.cursors
    for _ in range(5):
        current = await cursors.find(POISON_CURSOR)
        data = json.loads(current.value) if current and current.value else {}
        recent = [a for a in data.get("recent", []) if a != app_id][: _RECENT - 1]
        value = json.dumps({"count": int(data.get("count", 0)) + 1, "last_at": now.isoformat(),
                            "recent": [app_id, *recent]})
        cursor = Cursor(POISON_CURSOR, value, now, current.etag if current else None)
        try:
            await cursors.put(cursor)
            return
        except (ConcurrencyError, AlreadyExistsError):
            continue


async def poison_summary(services: Services) -> dict[str, object] | None:
    """Messages abandoned so far: how many, the last time, the most recent apps; None when none."""
    current = await services.store.cursors.find(POISON_CURSOR)
    if current is None or not current.value:
        return None
    try:
        data = json.loads(current.value)
        count = int(data.get("count", 0))
    except (ValueError, TypeError, AttributeError):
        return {"count": None, "last_at": None, "recent_apps": [], "unreadable": True}
    return {"count": count, "last_at": data.get("last_at"),
            "recent_apps": list(data.get("recent", []))}

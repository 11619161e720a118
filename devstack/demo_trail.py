"""The demo's last screen: the audit trail of the managed apps, one readable line per change.

Runs of the same event (a policy's rules corrected one by one) are folded into one line with a count,
so an identity engineer sees what happened without scrolling through every rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from shared.storage import AuditEvent, StateStore

_WINDOW = timedelta(days=1)


def fold(events: Iterable[AuditEvent]) -> list[tuple[AuditEvent, int]]:
    """Consecutive events with the same action, cause and outcome as (first event, count)."""
    folded: list[tuple[AuditEvent, int]] = []
    for event in events:
        if folded and _key(folded[-1][0]) == _key(event):
            folded[-1] = (folded[-1][0], folded[-1][1] + 1)
        else:
            folded.append((event, 1))
    return folded


def _key(event: AuditEvent) -> tuple[str, str, str]:
    return event.action, event.cause, event.outcome


def line(event: AuditEvent, count: int) -> str:
    """One event as `time  action  outcome  cause  what` (a folded run shows its count)."""
    action = f"{event.action} x{count}" if count > 1 else event.action
    return f"  {event.when:%H:%M:%S}  {action:24} {event.outcome:10} {event.cause:14} {_what(event, count)}"


def _what(event: AuditEvent, count: int) -> str:
    if count > 1:
        return ""
    if event.action == "DriftDetected":
        found = json.loads(event.before or "{}")
        wanted = json.loads(event.after or "{}")
        return f"{found.get('kind')}: found {found.get('found')}; wants {wanted.get('desired')}"
    return event.detail


async def print_trail(store: StateStore, app_ids: Iterable[str]) -> int:
    """Print each app's audit events of the last day (and the next, for the simulator's clock)."""
    now = datetime.now(UTC)
    total = 0
    records = {a.app_id: a.display_name for a in await store.apps.list()}
    for app_id in sorted(app_ids, key=lambda a: records.get(a, a)):
        events = await store.audit.query(app_id, now - _WINDOW, now + _WINDOW)
        total += len(events)
        print(f"{records.get(app_id, app_id)} ({app_id}): {len(events)} event(s)")
        for event, count in fold(events):
            print(line(event, count))
    return total

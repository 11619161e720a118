"""When an app needs a look again without any outside signal: the due list, and computing next due.

The due list is one cursor record (JSON {service principal id: ISO time}) so a quiet tick reads it with
one point read. It holds apps found changed but not reached yet (run budget), apps whose last run
failed, apps with a grant starting or ending, and apps with a removal PIM made us defer (its 5-minute
rule). Updates are ETag-conditional and merged on conflict, so two engines never lose each other's
entries. If the list ever outgrows one Table property, it keeps the earliest entries and sets
`overflow`, which makes the next tick a full audit: nothing is lost, it only costs more reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.eligibility_planning import MINIMUM_SCHEDULE
from shared.domain.model import DesiredApp, EligibilityGrant, ObservedApp
from shared.storage import ConcurrencyError, Cursor, CursorRepo
from shared.storage.errors import AlreadyExistsError

DUE_CURSOR = "engine-due"
_MAX_CHARS = 30_000
_ATTEMPTS = 5


@dataclass(frozen=True)
class DueList:
    """Apps due at a time; `overflow` = entries were dropped, do a full audit."""

    entries: Mapping[str, datetime] = field(default_factory=dict)
    overflow: bool = False

    def due_at(self, now: datetime) -> frozenset[str]:
        """The apps due at or before `now`."""
        return frozenset(app for app, when in self.entries.items() if when <= now)


class DueSchedule:
    """Reads and conditionally updates the due list."""

    def __init__(self, cursors: CursorRepo) -> None:
        self._cursors = cursors

    async def read(self) -> DueList:
        """The current due list (empty when never written)."""
        cursor = await self._cursors.find(DUE_CURSOR)
        return _decode(cursor.value) if cursor else DueList()

    async def update(
        self, now: datetime, *, set_due: Mapping[str, datetime | None], clear_overflow: bool = False
    ) -> None:
        """Set (time) or clear (None) entries, keeping the earliest time per app; merged on races."""
        for _ in range(_ATTEMPTS):
            cursor = await self._cursors.find(DUE_CURSOR)
            current = _decode(cursor.value) if cursor else DueList()
            merged = merge(current, set_due, clear_overflow=clear_overflow)
            value = _encode(merged)
            try:
                await self._cursors.put(Cursor(DUE_CURSOR, value, now, cursor.etag if cursor else None))
                return
            except (ConcurrencyError, AlreadyExistsError):
                continue
        raise ConcurrencyError("due list kept changing under us", table="cursors", operation="update")


def merge(current: DueList, changes: Mapping[str, datetime | None], *, clear_overflow: bool) -> DueList:
    """Apply changes: None removes, a time sets it (an earlier time already there is NOT kept: the
    caller just looked at the app and knows best)."""
    entries = dict(current.entries)
    for app, when in changes.items():
        if when is None:
            entries.pop(app, None)
        else:
            entries[app] = when
    return DueList(entries, current.overflow and not clear_overflow)


def _encode(due: DueList) -> str:
    ordered = sorted(due.entries.items(), key=lambda item: item[1])
    kept: dict[str, str] = {}
    size, overflow = 40, due.overflow
    for app, when in ordered:
        size += len(app) + 32
        if size > _MAX_CHARS:
            overflow = True
            break
        kept[app] = when.isoformat()
    return json.dumps({"due": kept, "overflow": overflow}, separators=(",", ":"))


def _decode(value: str) -> DueList:
    data = json.loads(value) if value else {}
    entries = {app: datetime.fromisoformat(when) for app, when in data.get("due", {}).items()}
    return DueList(entries, bool(data.get("overflow", False)))


def next_due(
    desired: DesiredApp, observed: ObservedApp, grants: Iterable[EligibilityGrant], now: datetime
) -> datetime | None:
    """The next time this app needs a look even if nothing else changes (None = only on signals)."""
    times = []
    for grant in grants:
        if grant.revoked_at is None and grant.starts > now:
            times.append(grant.starts)
        if grant.is_open_at(now) and grant.ends is not None:
            times.append(grant.ends)
    wanted = {(r.app_role_id, e.principal_id) for r in desired.roles for e in r.eligibilities}
    for role_id, seen in observed.roles.items():
        for item in seen.eligibilities:
            created = item.created or item.start
            if (role_id, item.principal_id) not in wanted and created + MINIMUM_SCHEDULE > now:
                times.append(created + MINIMUM_SCHEDULE + timedelta(seconds=5))
    future = [t for t in times if t > now]
    return min(future) if future else None

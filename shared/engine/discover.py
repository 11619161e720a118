"""Discover apps incrementally: `servicePrincipals/delta`, with the delta link kept in Table Storage.

No stored link (first run) or an expired one: a full round, which also starts a new delta. New,
changed and removed service principals come back in one round. A full round lists only what exists
(no `@removed` entries), so a managed app missing from it is reported removed: an app deleted while
the token was expiring is noticed in this tick, not at the next full audit. The new link is saved
only after the caller has made the found apps durable (the due list), so a crash in between loses
nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from shared.domain.model import ServicePrincipal
from shared.engine.ports import DeltaTokenExpired, GraphPort
from shared.storage import ConcurrencyError, Cursor, CursorRepo
from shared.storage.errors import AlreadyExistsError

SP_DELTA_CURSOR = "sp-delta"


@dataclass(frozen=True)
class Discovery:
    """One round of service principal changes; `full` = every service principal was listed."""

    changed: dict[str, ServicePrincipal]
    removed: frozenset[str]
    delta_link: str
    full: bool
    cursor: Cursor | None = field(default=None, compare=False)


async def discover(
    graph: GraphPort, cursors: CursorRepo, *, full: bool = False, managed: Collection[str] = (),
) -> Discovery:
    """Follow the stored delta link (or do a full round when asked, missing or expired); on a full
    round, the `managed` app ids the listing lacks are reported removed."""
    cursor = await cursors.find(SP_DELTA_CURSOR)
    link = None if full or cursor is None or not cursor.value else cursor.value
    try:
        delta = await graph.service_principal_delta(link)
    except DeltaTokenExpired:
        link = None
        delta = await graph.service_principal_delta(None)
    changed = {str(sp.id): sp for sp in delta.changed}
    removed = {str(r) for r in delta.removed}
    if link is None:
        removed |= {a for a in managed if a not in changed}
    return Discovery(
        changed=changed,
        removed=frozenset(removed),
        delta_link=delta.delta_link,
        full=link is None,
        cursor=cursor,
    )


async def save_delta_link(cursors: CursorRepo, discovery: Discovery, now: datetime) -> None:
    """Store where the next round continues; another engine having moved it first is fine."""
    await save_cursor(cursors, SP_DELTA_CURSOR, discovery.cursor, discovery.delta_link, now)


async def save_cursor(
    cursors: CursorRepo, name: str, before: Cursor | None, value: str, now: datetime
) -> None:
    """Conditionally move a cursor from `before` to `value`; losing the race to another engine is fine
    (it read at least as far as we did)."""
    with contextlib.suppress(ConcurrencyError, AlreadyExistsError):
        await cursors.put(Cursor(name, value, now, before.etag if before else None))

"""When each ticket was last closed, per app: the memory that keeps a late approval from granting.

Ticket systems retry and reorder deliveries, so a ticket's "closed" may arrive before its "approved".
A close is remembered even when no grant exists yet; an approval whose event is not newer than the
remembered close is then ignored. Rows live in the grants table (PartitionKey = app id, RowKey =
`close-` + a digest of source, system and number) with Status "closed", so open-grant queries never
see them. Recording is idempotent and only ever moves the time forward (ETag-conditional).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from shared.storage import codec
from shared.storage.errors import AlreadyExistsError, ConcurrencyError
from shared.storage.tables import EntityTable

_ATTEMPTS = 5


def close_key(source: str, system: str, number: str) -> str:
    """The RowKey of one ticket's close marker (ticket identity is scoped to its source)."""
    text = "\n".join((source.lower(), system.lower(), number.lower()))
    return "close-" + hashlib.sha256(text.encode()).hexdigest()[:40]


class TicketCloseRepo:
    """Latest close time per (app, source, ticket)."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def closed_at(self, app_id: str, key: str) -> datetime | None:
        """When this ticket was last closed for the app, or None if never."""
        stored = await self._table.find(app_id, key)
        return codec.utc(stored.properties.get("ClosedAt")) if stored else None

    async def record(self, app_id: str, key: str, at: datetime, ticket: str) -> datetime:
        """Remember a close at `at` (a later stored close wins); returns the stored time."""
        props = {
            "Kind": "ticket-close", "Status": "closed", "ClosedAt": codec.aware(at, "at"), "Ticket": ticket,
        }
        for _ in range(_ATTEMPTS):
            stored = await self._table.find(app_id, key)
            try:
                if stored is None:
                    await self._table.create(app_id, key, props)
                    return at
                before = codec.utc(stored.properties.get("ClosedAt"))
                if before is not None and before >= at:
                    return before
                await self._table.update(app_id, key, props, stored.etag)
                return at
            except (AlreadyExistsError, ConcurrencyError):
                continue
        raise ConcurrencyError(f"close marker of {ticket} kept changing", table="grants", operation="update")

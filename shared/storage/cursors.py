"""Named cursors: where an incremental read stopped (a Graph delta link, an audit-log position).

One entity per cursor name; `put` creates when the record has no ETag and otherwise updates only if
nobody moved the cursor since it was read, so two readers cannot both advance from the same place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.storage import codec
from shared.storage.tables import EntityTable, StoredEntity

_ROW = "cursor"


@dataclass(frozen=True)
class Cursor:
    """A named position; `etag` is None until stored."""

    name: str
    value: str
    updated_at: datetime
    etag: str | None = None


class CursorRepo:
    """Stores cursors with ETag-conditional updates."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def get(self, name: str) -> Cursor:
        """The cursor; NotFoundError when never stored."""
        return _from_stored(await self._table.get(name, _ROW))

    async def find(self, name: str) -> Cursor | None:
        """The cursor, or None when never stored."""
        stored = await self._table.find(name, _ROW)
        return _from_stored(stored) if stored else None

    async def put(self, cursor: Cursor) -> Cursor:
        """Create (no etag; AlreadyExistsError if present) or conditionally update (ConcurrencyError)."""
        props = {"Value": cursor.value, "UpdatedAt": codec.aware(cursor.updated_at, "updated_at")}
        if cursor.etag is None:
            etag = await self._table.create(cursor.name, _ROW, props)
        else:
            etag = await self._table.update(cursor.name, _ROW, props, cursor.etag)
        return replace(cursor, etag=etag)

    async def delete(self, name: str) -> None:
        """Forget a cursor (the next read starts from scratch); succeeds when already gone."""
        await self._table.delete(name, _ROW)


def _from_stored(s: StoredEntity) -> Cursor:
    return Cursor(
        name=s.partition_key,
        value=str(s.properties.get("Value", "")),
        updated_at=codec.require_utc(s.properties.get("UpdatedAt")),
        etag=s.etag,
    )

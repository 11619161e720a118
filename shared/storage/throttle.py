"""The Graph throttle pause every instance shares (the SharedPause port of shared/graph/pause.py).

One small entity per bucket in the cursors table: PartitionKey "throttle", RowKey "write" or "read",
property PausedUntil (wall-clock UTC). A 429 moves it later, never earlier: the update is
ETag-conditional; on a lost race (or a create beaten by another instance) the entity is read again and
the later of the two times kept. The table this repo is given should not retry (the store builds it with
one attempt): a Graph call waits for no storage retry, the call runner falls back to its own pause.
"""

from __future__ import annotations

from datetime import datetime

from shared.storage import codec
from shared.storage.errors import AlreadyExistsError, ConcurrencyError
from shared.storage.tables import EntityTable, StoredEntity

PARTITION = "throttle"
_PROPERTY = "PausedUntil"
_RACES = 10  # lost races before giving up: each loss is another writer's success (it then returns)


class ThrottlePauseRepo:
    """"Paused until" per bucket, moved forward only, with ETags."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def paused_until(self, bucket: str) -> datetime | None:
        """The stored time, or None when none was ever recorded (or the stored value is unreadable)."""
        return _until(await self._table.find(PARTITION, bucket))

    async def pause_until(self, bucket: str, until: datetime) -> datetime:
        """Store `until` unless a later time is stored already; the time stored afterwards."""
        until = codec.aware(until, "until")
        for _ in range(_RACES):
            current = await self._table.find(PARTITION, bucket)
            stored = _until(current)
            if stored is not None and stored >= until:
                return stored
            try:
                if current is None:
                    await self._table.create(PARTITION, bucket, {_PROPERTY: until})
                else:
                    await self._table.update(PARTITION, bucket, {_PROPERTY: until}, current.etag)
            except (AlreadyExistsError, ConcurrencyError):
                continue  # another instance wrote meanwhile: read its time and keep the later one
            return until
        raise ConcurrencyError(
            f"the pause kept changing under us ({_RACES} tries)", table=self._table.name,
            operation="pause", partition_key=PARTITION, row_key=bucket,
        )


def _until(entity: StoredEntity | None) -> datetime | None:
    value = entity.properties.get(_PROPERTY) if entity else None
    return codec.utc(value) if isinstance(value, datetime) else None

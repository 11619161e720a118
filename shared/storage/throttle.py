"""The Graph throttle pause every instance shares (the SharedPause port of shared/graph/pause.py).

Small entities in the cursors table, PartitionKey "throttle":
* one per bucket, RowKey "write" or "read", property PausedUntil (wall-clock UTC). A 429 moves it later,
  never earlier: the update is ETag-conditional; on a lost race (or a create beaten by another instance)
  the entity is read again and the later of the two times kept;
* one per instance pacing its writes (shared/graph/pacing.py), RowKey "instance-{holder}", property
  LastSeen: upserted (each instance writes only its own row); rows long gone are deleted by whoever
  beats next.
`state` reads the whole partition in one query: every pause and heartbeat. The table this repo is given
should not retry (the store builds it with one attempt): a Graph call waits for no storage retry, the
call runner falls back to its own pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.graph.pause import ThrottleState
from shared.storage import codec
from shared.storage.errors import AlreadyExistsError, ConcurrencyError
from shared.storage.tables import EntityTable, StoredEntity

PARTITION = "throttle"
INSTANCE_PREFIX = "instance-"
_PAUSED = "PausedUntil"
_SEEN = "LastSeen"
_RACES = 10  # lost races before giving up: each loss is another writer's success (it then returns)


class ThrottlePauseRepo:
    """"Paused until" per bucket, moved forward only, with ETags; a heartbeat per pacing instance."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def state(self) -> ThrottleState:
        """Every pause and heartbeat of the partition (unreadable values skipped)."""
        pauses: dict[str, datetime] = {}
        instances: dict[str, datetime] = {}
        for entity in await self._table.partition(PARTITION):
            if entity.row_key.startswith(INSTANCE_PREFIX):
                seen = _time(entity, _SEEN)
                if seen is not None:
                    instances[entity.row_key.removeprefix(INSTANCE_PREFIX)] = seen
            elif (until := _time(entity, _PAUSED)) is not None:
                pauses[entity.row_key] = until
        return ThrottleState(pauses, instances)

    async def paused_until(self, bucket: str) -> datetime | None:
        """The stored time, or None when none was ever recorded (or the stored value is unreadable)."""
        return _time(await self._table.find(PARTITION, bucket), _PAUSED)

    async def pause_until(self, bucket: str, until: datetime) -> datetime:
        """Store `until` unless a later time is stored already; the time stored afterwards."""
        until = codec.aware(until, "until")
        for _ in range(_RACES):
            current = await self._table.find(PARTITION, bucket)
            stored = _time(current, _PAUSED)
            if stored is not None and stored >= until:
                return stored
            try:
                if current is None:
                    await self._table.create(PARTITION, bucket, {_PAUSED: until})
                else:
                    await self._table.update(PARTITION, bucket, {_PAUSED: until}, current.etag)
            except (AlreadyExistsError, ConcurrencyError):
                continue  # another instance wrote meanwhile: read its time and keep the later one
            return until
        raise ConcurrencyError(
            f"the pause kept changing under us ({_RACES} tries)", table=self._table.name,
            operation="pause", partition_key=PARTITION, row_key=bucket,
        )

    async def heartbeat(self, holder: str, at: datetime, *, forget: Sequence[str] = ()) -> None:
        """Upsert `holder`'s heartbeat; delete those of `forget` (instances gone for long)."""
        seen = codec.aware(at, "at")
        await self._table.transact(PARTITION, [("upsert", INSTANCE_PREFIX + holder, {_SEEN: seen})])
        for gone in forget:
            await self._table.delete(PARTITION, INSTANCE_PREFIX + gone)


def _time(entity: StoredEntity | None, name: str) -> datetime | None:
    value = entity.properties.get(name) if entity else None
    return codec.utc(value) if isinstance(value, datetime) else None

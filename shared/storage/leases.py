"""Per-app leases: at most one worker reconciles an app at a time, even across scaled-out instances.

A lease is one entity (PartitionKey = app id, RowKey "lease") holding the holder and expiry. It is
taken with `create` when absent, or with an ETag-conditional update when expired or already ours;
both are atomic on the service, so of N concurrent takers exactly one succeeds. Release does not
delete the entity: it conditionally marks it free, so releasing a lease someone else took over is
detected (a conditional delete of a vanished entity would be silently accepted by the SDK).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.storage import codec
from shared.storage.errors import AlreadyExistsError, ConcurrencyError, LeaseLostError
from shared.storage.tables import EntityTable, StoredEntity

_ROW = "lease"
_FREE = ""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Lease:
    """A held lease; keep it to renew or release."""

    app_id: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    etag: str


class LeaseRepo:
    """Acquire, renew and release per-app leases with ETags."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def acquire(self, app_id: str, holder: str, ttl: timedelta, now: datetime) -> Lease | None:
        """Take the lease for `ttl`, or None when someone else holds an unexpired one (or won the race)."""
        if not holder:
            raise ValueError("holder must be a non-empty id")
        now = codec.aware(now, "now")
        props = {"Holder": holder, "AcquiredAt": now, "ExpiresAt": now + ttl}
        current = await self._table.find(app_id, _ROW)
        try:
            if current is None:
                etag = await self._table.create(app_id, _ROW, props)
            elif _is_takeable(current, holder, now):
                etag = await self._table.update(app_id, _ROW, props, current.etag)
            else:
                return None
        except (AlreadyExistsError, ConcurrencyError):
            return None
        return Lease(app_id, holder, now, now + ttl, etag)

    async def renew(self, lease: Lease, ttl: timedelta, now: datetime) -> Lease:
        """Extend a lease we still hold; LeaseLostError when it was taken over or released."""
        now = codec.aware(now, "now")
        props = {"Holder": lease.holder, "AcquiredAt": lease.acquired_at, "ExpiresAt": now + ttl}
        etag = await self._conditional(lease, props, "renew")
        return Lease(lease.app_id, lease.holder, lease.acquired_at, now + ttl, etag)

    async def release(self, lease: Lease) -> None:
        """Give the lease up; LeaseLostError when it was no longer ours."""
        free = {"Holder": _FREE, "AcquiredAt": _EPOCH, "ExpiresAt": _EPOCH}
        await self._conditional(lease, free, "release")

    async def forget(self, lease: Lease) -> None:
        """Give the lease up and delete its row (an app that turned out not to be ours: the rows of
        this table also tell a run which apps were ever reconciled); LeaseLostError when not ours."""
        try:
            await self._table.delete(lease.app_id, _ROW, lease.etag)
        except ConcurrencyError as exc:
            raise LeaseLostError(f"cannot forget: lease on {lease.app_id!r} is no longer held by "
                                 f"{lease.holder!r}", table=self._table.name, operation="forget") from exc

    async def app_ids(self) -> set[str]:
        """Every app with a lease row: every app a run has reconciled (and not forgotten)."""
        return {row.partition_key for row in await self._table.all()}

    async def holder(self, app_id: str, now: datetime) -> str | None:
        """Who holds an unexpired lease on `app_id`, if anyone."""
        current = await self._table.find(app_id, _ROW)
        if current is None or _is_takeable(current, holder=None, now=now):
            return None
        return str(current.properties["Holder"])

    async def _conditional(self, lease: Lease, props: dict[str, object], operation: str) -> str:
        try:
            return await self._table.update(lease.app_id, _ROW, props, lease.etag)
        except ConcurrencyError as exc:
            raise LeaseLostError(f"cannot {operation}: lease on {lease.app_id!r} is no longer held by "
                                 f"{lease.holder!r}", table=self._table.name, operation=operation) from exc


def _is_takeable(current: StoredEntity, holder: str | None, now: datetime) -> bool:
    held_by = str(current.properties.get("Holder", _FREE))
    expires = codec.utc(current.properties.get("ExpiresAt")) or _EPOCH
    return held_by in (_FREE, holder) or expires <= now

"""Explicit high-value registrations: apps an operator put under PIM Warden by hand.

Discovery by tag finds most apps; a registration adds one regardless of tags and pins its profile.
PartitionKey = app id, RowKey "registration".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.storage import codec
from shared.storage.tables import EntityTable, StoredEntity

_ROW = "registration"


@dataclass(frozen=True)
class Registration:
    """An operator's decision to manage an app with a given profile."""

    app_id: str
    profile: str
    registered_by: str
    registered_at: datetime
    reason: str = ""
    etag: str | None = None


class RegistrationRepo:
    """put/get/find/list/delete of registrations; put is ETag-conditional for existing records."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def put(self, registration: Registration) -> Registration:
        """Create (no etag; AlreadyExistsError if present) or conditionally replace (ConcurrencyError)."""
        r = registration
        props = {"Profile": r.profile, "RegisteredBy": r.registered_by,
                 "RegisteredAt": codec.aware(r.registered_at, "registered_at"), "Reason": r.reason}
        if r.etag is None:
            etag = await self._table.create(r.app_id, _ROW, props)
        else:
            etag = await self._table.update(r.app_id, _ROW, props, r.etag)
        return replace(r, etag=etag)

    async def get(self, app_id: str) -> Registration:
        """The registration; NotFoundError when the app is not registered."""
        return _from_stored(await self._table.get(app_id, _ROW))

    async def find(self, app_id: str) -> Registration | None:
        """The registration, or None."""
        stored = await self._table.find(app_id, _ROW)
        return _from_stored(stored) if stored else None

    async def list(self) -> list[Registration]:
        """Every registration."""
        return [_from_stored(s) for s in await self._table.all()]

    async def delete(self, app_id: str) -> None:
        """Remove a registration; succeeds when already gone."""
        await self._table.delete(app_id, _ROW)


def _from_stored(s: StoredEntity) -> Registration:
    p = s.properties
    return Registration(
        app_id=s.partition_key,
        profile=str(p.get("Profile", "")),
        registered_by=str(p.get("RegisteredBy", "")),
        registered_at=codec.require_utc(p.get("RegisteredAt")),
        reason=str(p.get("Reason", "")),
        etag=s.etag,
    )

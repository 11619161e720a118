"""Managed applications: one entity per service principal PIM Warden looks after.

PartitionKey is the service principal object id and RowKey the constant "app", so each app is its
own partition (independent throughput) and `get` is a point read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.storage import codec
from shared.storage.tables import EntityTable, StoredEntity

_ROW = "app"


class AppStatus(StrEnum):
    MANAGED = "managed"
    OUT_OF_SCOPE = "out_of_scope"
    DELETED = "deleted"
    ERROR = "error"
    REFUSED = "refused"  # selected or registered, but never manageable (shared.domain.manageable)


@dataclass(frozen=True)
class ManagedApp:
    """What PIM Warden knows about one high-value app; `etag` is None until stored."""

    app_id: str
    display_name: str
    role_groups: Mapping[str, str] = field(default_factory=dict)  # app role id -> group object id
    policy_fingerprint: str = ""
    profile: str = "standard"
    status: AppStatus = AppStatus.MANAGED
    in_scope: bool = True
    last_reconcile: datetime | None = None
    last_error: str | None = None
    last_drift: datetime | None = None
    # service principal state its last successful reconcile left (engine.signals fingerprint); "" = none
    sp_fingerprint: str = ""
    etag: str | None = None


class ManagedAppRepo:
    """Stores ManagedApp records with ETag-conditional updates."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def get(self, app_id: str) -> ManagedApp:
        """The app; NotFoundError when unknown."""
        return _from_stored(await self._table.get(app_id, _ROW))

    async def find(self, app_id: str) -> ManagedApp | None:
        """The app, or None when unknown."""
        stored = await self._table.find(app_id, _ROW)
        return _from_stored(stored) if stored else None

    async def list(self, *, status: AppStatus | None = None) -> list[ManagedApp]:
        """Every app, optionally only those with `status`."""
        if status is None:
            return [_from_stored(s) for s in await self._table.all()]
        found = await self._table.query("Status eq @status", {"status": status.value})
        return [_from_stored(s) for s in found]

    async def create(self, app: ManagedApp) -> ManagedApp:
        """Store a new app; AlreadyExistsError when the app id is taken."""
        etag = await self._table.create(app.app_id, _ROW, _properties(app))
        return replace(app, etag=etag)

    async def update(self, app: ManagedApp) -> ManagedApp:
        """Replace the stored app if unchanged since read (`app.etag`); ConcurrencyError otherwise."""
        if app.etag is None:
            raise ValueError("update needs the etag of the record read before")
        etag = await self._table.update(app.app_id, _ROW, _properties(app), app.etag)
        return replace(app, etag=etag)


def _properties(app: ManagedApp) -> dict[str, Any]:
    return codec.drop_none({
        "DisplayName": app.display_name,
        "RoleGroups": codec.map_text(app.role_groups),
        "PolicyFingerprint": app.policy_fingerprint,
        "Profile": app.profile,
        "Status": app.status.value,
        "InScope": app.in_scope,
        "LastReconcile": app.last_reconcile,
        "LastError": app.last_error,
        "LastDrift": app.last_drift,
        "SpFingerprint": app.sp_fingerprint or None,
    })


def _from_stored(s: StoredEntity) -> ManagedApp:
    p = s.properties
    return ManagedApp(
        app_id=s.partition_key,
        display_name=str(p.get("DisplayName", "")),
        role_groups=codec.text_map(p.get("RoleGroups")),
        policy_fingerprint=str(p.get("PolicyFingerprint", "")),
        profile=str(p.get("Profile", "standard")),
        status=AppStatus(p.get("Status", AppStatus.MANAGED.value)),
        in_scope=bool(p.get("InScope", True)),
        last_reconcile=codec.utc(p.get("LastReconcile")),
        last_error=codec.optional_str(p.get("LastError")),
        last_drift=codec.utc(p.get("LastDrift")),
        sp_fingerprint=str(p.get("SpFingerprint") or ""),
        etag=s.etag,
    )

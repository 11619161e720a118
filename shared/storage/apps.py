"""Managed applications: one entity per service principal PIM Warden looks after.

PartitionKey is the service principal object id and RowKey the constant "app", so each app is its
own partition (independent throughput) and `get` is a point read.

A row that cannot be read (a property with corrupt JSON or a bad value) is that app's problem only:
`find`/`get` raise UnreadableRecordError naming the app and the property, and `scan` returns the
readable apps and the unreadable rows apart, so a listing never fails for every app because of one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from shared.storage import codec
from shared.storage.errors import UnreadableRecordError
from shared.storage.tables import EntityTable, StoredEntity

_ROW = "app"
T = TypeVar("T")


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


@dataclass(frozen=True)
class UnreadableApp:
    """A stored app row that cannot be read: which app, which property, why."""

    app_id: str
    property: str
    why: str


@dataclass(frozen=True)
class AppScan:
    """Every stored app row: those read, and those that could not be."""

    apps: list[ManagedApp]
    unreadable: list[UnreadableApp]


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

    async def exists(self, app_id: str) -> bool:
        """Whether a row for the app is stored (readable or not)."""
        return await self._table.find(app_id, _ROW) is not None

    async def list(self, *, status: AppStatus | None = None) -> list[ManagedApp]:
        """Every readable app, optionally only those with `status` (unreadable rows: see `scan`)."""
        return (await self.scan(status=status)).apps

    async def scan(self, *, status: AppStatus | None = None) -> AppScan:
        """Every app row, optionally only those with `status`: the readable apps and the rest."""
        if status is None:
            rows = await self._table.all()
        else:
            rows = await self._table.query("Status eq @status", {"status": status.value})
        apps, unreadable = [], []
        for row in rows:
            try:
                apps.append(_from_stored(row))
            except UnreadableRecordError as error:
                unreadable.append(UnreadableApp(row.partition_key, error.property, error.why))
        return AppScan(apps, unreadable)

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

    def read(name: str, convert: Callable[[Any], T]) -> T:
        try:
            return convert(p.get(name))
        except (ValueError, TypeError, AttributeError) as error:  # json errors are ValueErrors
            raise UnreadableRecordError(s.partition_key, name, f"{type(error).__name__}: {error}"[:200],
                                        table="apps") from error

    return ManagedApp(
        app_id=s.partition_key,
        display_name=str(p.get("DisplayName", "")),
        role_groups=read("RoleGroups", codec.text_map),
        policy_fingerprint=str(p.get("PolicyFingerprint", "")),
        profile=str(p.get("Profile", "standard")),
        status=read("Status", lambda v: AppStatus(v if v is not None else AppStatus.MANAGED.value)),
        in_scope=bool(p.get("InScope", True)),
        last_reconcile=read("LastReconcile", codec.utc),
        last_error=codec.optional_str(p.get("LastError")),
        last_drift=read("LastDrift", codec.utc),
        sp_fingerprint=str(p.get("SpFingerprint") or ""),
        etag=s.etag,
    )

"""Eligibility grants: who may activate membership of an app's group, why, and until when.

PartitionKey = app id, RowKey = grant id, so "open grants of this app" is one partition query.
A grant is closed (never deleted) with an ETag-conditional update, keeping the history auditable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.storage import codec
from shared.storage.limits import escape_key
from shared.storage.tables import EntityTable, StoredEntity

DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"  # the "default access" app role


class GrantStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Grant:
    """One eligibility grant; `ends` None means permanent."""

    app_id: str
    grant_id: str
    principal_id: str
    starts: datetime
    ends: datetime | None = None
    principal_upn: str | None = None
    role: str = DEFAULT_APP_ROLE_ID
    justification: str = ""
    ticket_system: str | None = None
    ticket_number: str | None = None
    source: str = "operator"
    status: GrantStatus = GrantStatus.OPEN
    closed_reason: str | None = None
    closed_at: datetime | None = None
    etag: str | None = None


class GrantRepo:
    """Stores grants; updates and closing are ETag-conditional."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def create(self, grant: Grant) -> Grant:
        """Store a new grant; AlreadyExistsError when the grant id is taken."""
        etag = await self._table.create(grant.app_id, grant.grant_id, _properties(grant))
        return replace(grant, etag=etag)

    async def get(self, app_id: str, grant_id: str) -> Grant:
        """The grant; NotFoundError when unknown."""
        return _from_stored(await self._table.get(app_id, grant_id))

    async def find(self, app_id: str, grant_id: str) -> Grant | None:
        """The grant, or None when unknown."""
        stored = await self._table.find(app_id, grant_id)
        return _from_stored(stored) if stored else None

    async def update(self, grant: Grant) -> Grant:
        """Replace the grant if unchanged since read; ConcurrencyError otherwise."""
        if grant.etag is None:
            raise ValueError("update needs the etag of the record read before")
        etag = await self._table.update(grant.app_id, grant.grant_id, _properties(grant), grant.etag)
        return replace(grant, etag=etag)

    async def close(self, grant: Grant, reason: str, at: datetime) -> Grant:
        """Mark the grant closed (ETag-conditional)."""
        return await self.update(replace(grant, status=GrantStatus.CLOSED, closed_reason=reason,
                                         closed_at=codec.aware(at, "at")))

    async def list_open(self, app_id: str, principal_id: str | None = None) -> list[Grant]:
        """Open grants of an app, optionally only those of one principal."""
        where = "PartitionKey eq @pk and Status eq @open"
        params: dict[str, Any] = {"pk": escape_key(app_id), "open": GrantStatus.OPEN.value}
        if principal_id is not None:
            where, params["principal"] = where + " and PrincipalId eq @principal", principal_id
        return [_from_stored(s) for s in await self._table.query(where, params)]


def _properties(g: Grant) -> dict[str, Any]:
    return codec.drop_none({
        "PrincipalId": g.principal_id,
        "PrincipalUpn": g.principal_upn,
        "Role": g.role,
        "Starts": codec.aware(g.starts, "starts"),
        "Ends": g.ends,
        "Justification": g.justification,
        "TicketSystem": g.ticket_system,
        "TicketNumber": g.ticket_number,
        "Source": g.source,
        "Status": g.status.value,
        "ClosedReason": g.closed_reason,
        "ClosedAt": g.closed_at,
    })


def _from_stored(s: StoredEntity) -> Grant:
    p = s.properties
    return Grant(
        app_id=s.partition_key,
        grant_id=s.row_key,
        principal_id=str(p.get("PrincipalId", "")),
        starts=codec.require_utc(p.get("Starts")),
        ends=codec.utc(p.get("Ends")),
        principal_upn=codec.optional_str(p.get("PrincipalUpn")),
        role=str(p.get("Role", DEFAULT_APP_ROLE_ID)),
        justification=str(p.get("Justification", "")),
        ticket_system=codec.optional_str(p.get("TicketSystem")),
        ticket_number=codec.optional_str(p.get("TicketNumber")),
        source=str(p.get("Source", "")),
        status=GrantStatus(p.get("Status", GrantStatus.OPEN.value)),
        closed_reason=codec.optional_str(p.get("ClosedReason")),
        closed_at=codec.utc(p.get("ClosedAt")),
        etag=s.etag,
    )

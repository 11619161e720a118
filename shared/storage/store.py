"""StateStore: the one object that owns the Table Storage client and hands out the repositories.

Built lazily by `shared.runtime` (never at import), bound to the event loop that built it, closed
with `await store.close()`. Tables are named `{prefix}{suffix}` (see TABLES).
"""

from __future__ import annotations

import uuid
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.data.tables.aio import TableServiceClient

from shared.settings import Settings
from shared.storage.apps import ManagedAppRepo
from shared.storage.audit import AuditLog
from shared.storage.cursors import CursorRepo
from shared.storage.events import EventRepo, EventTable
from shared.storage.grants import GrantRepo
from shared.storage.inbound import InboundRequestRepo
from shared.storage.leases import LeaseRepo
from shared.storage.registrations import RegistrationRepo
from shared.storage.tables import EntityTable, RetryPolicy
from shared.storage.throttle import ThrottlePauseRepo
from shared.storage.ticket_closes import TicketCloseRepo
from shared.storage.ticks import TickRepo

TABLES = ("apps", "cursors", "audit", "requests", "leases", "grants", "registrations", "events", "runs")
# Our RetryPolicy retries; the SDK's own retry policy is switched off so retries don't multiply.
_CLIENT_OPTIONS: dict[str, Any] = {"retry_total": 0, "connection_timeout": 5, "read_timeout": 20}


class StateStore:
    """Repositories over one storage account and table prefix."""

    def __init__(self, service: TableServiceClient, prefix: str, retry: RetryPolicy | None = None) -> None:
        self._service = service
        self.prefix = prefix
        policy = retry or RetryPolicy()
        self._tables = {
            s: (EventTable if s == "events" else EntityTable)(service.get_table_client(prefix + s), policy)
            for s in TABLES
        }
        self.apps = ManagedAppRepo(self._tables["apps"])
        self.cursors = CursorRepo(self._tables["cursors"])
        self.audit = AuditLog(self._tables["audit"])
        self.requests = InboundRequestRepo(self._tables["requests"])
        self.leases = LeaseRepo(self._tables["leases"])
        self.grants = GrantRepo(self._tables["grants"])
        self.ticket_closes = TicketCloseRepo(self._tables["grants"])  # close markers beside the grants
        self.registrations = RegistrationRepo(self._tables["registrations"])
        self.ticks = TickRepo(self._tables["runs"])  # fanned-out ticks, their progress, queued markers
        # The Graph throttle pause shared by every instance, beside the cursors; one attempt, no retry:
        # a Graph call never waits for storage retries (its runner falls back to its own pause).
        self.throttle = ThrottlePauseRepo(
            EntityTable(service.get_table_client(prefix + "cursors"), RetryPolicy(attempts=1))
        )
        events = self._tables["events"]
        assert isinstance(events, EventTable)
        self.events = EventRepo(events)  # the compliance timeline (shared/compliance)

    @classmethod
    def from_connection_string(
        cls, connection_string: str, prefix: str, *, retry: RetryPolicy | None = None, **client_options: Any,
    ) -> StateStore:
        """A store over a connection string (Azurite, dev); `client_options` go to the SDK client."""
        service = TableServiceClient.from_connection_string(
            connection_string, **{**_CLIENT_OPTIONS, **client_options})
        return cls(service, prefix, retry)

    @classmethod
    def from_settings(
        cls, settings: Settings, credential: AsyncTokenCredential | None = None, *,
        retry: RetryPolicy | None = None,
    ) -> StateStore:
        """A store as configured: connection string, or service URI + the managed-identity `credential`."""
        storage = settings.storage
        if storage.connection_string is not None:
            return cls.from_connection_string(storage.connection_string, settings.table_prefix, retry=retry)
        if credential is None or storage.table_service_uri is None:
            raise ValueError("a service-URI store needs PimWardenStorage__tableServiceUri and a credential")
        service = TableServiceClient(storage.table_service_uri, credential=credential, **_CLIENT_OPTIONS)
        return cls(service, settings.table_prefix, retry)

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self._tables.values()]

    async def ping(self) -> None:
        """One cheap authenticated request (look up the apps table); raises when storage is unusable.

        Callers bound it with `asyncio.timeout`; the SDK's own retries are off, so it fails fast.
        """
        name = self.prefix + "apps"
        async for _ in self._service.query_tables("TableName eq @name", parameters={"name": name}):
            break

    async def probe_write(self) -> None:
        """Write a probe entity and remove it again (the preflight's "storage is writable" check)."""
        table, key = self._tables["cursors"], f"probe-{uuid.uuid4().hex}"
        await table.create("preflight", key, {"purpose": "preflight write check"})
        await table.delete("preflight", key)

    async def delete_tables(self) -> None:
        """Drop every table of this prefix (tests and teardown)."""
        for table in self._tables.values():
            await table.drop()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._service.close()

"""State in Azure Table Storage: repositories with ETags, parameterised filters and bounded retries."""

from shared.storage.apps import AppScan, AppStatus, ManagedApp, ManagedAppRepo, UnreadableApp
from shared.storage.audit import TENANT_SCOPE, AuditEvent, AuditLog, json_or_none
from shared.storage.cursors import Cursor, CursorRepo
from shared.storage.errors import (
    AlreadyExistsError,
    ConcurrencyError,
    LeaseLostError,
    NotFoundError,
    StorageError,
    StorageUnavailableError,
    UnreadableRecordError,
    ValueTooLargeError,
)
from shared.storage.grants import DEFAULT_APP_ROLE_ID, Grant, GrantRepo, GrantStatus
from shared.storage.inbound import InboundRequest, InboundRequestRepo, RequestStatus
from shared.storage.leases import Lease, LeaseRepo
from shared.storage.registrations import Registration, RegistrationRepo
from shared.storage.store import TABLES, StateStore
from shared.storage.tables import EntityTable, RetryPolicy, StoredEntity
from shared.storage.throttle import ThrottlePauseRepo

__all__ = [
    "DEFAULT_APP_ROLE_ID", "TABLES", "TENANT_SCOPE",
    "AlreadyExistsError", "AppScan", "AppStatus", "AuditEvent", "AuditLog", "ConcurrencyError", "Cursor",
    "CursorRepo",
    "EntityTable", "Grant", "GrantRepo", "GrantStatus", "InboundRequest", "InboundRequestRepo", "Lease",
    "LeaseLostError", "LeaseRepo", "ManagedApp", "ManagedAppRepo", "NotFoundError", "Registration",
    "RegistrationRepo", "RequestStatus", "RetryPolicy", "StateStore", "StorageError",
    "StorageUnavailableError", "StoredEntity", "ThrottlePauseRepo", "UnreadableApp", "UnreadableRecordError",
    "ValueTooLargeError",
    "json_or_none",
]

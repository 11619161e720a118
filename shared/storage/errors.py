"""Typed storage errors, so callers branch on meaning rather than on HTTP status codes.

    StorageError                 the operation failed; carries table, keys and operation
    ├── NotFoundError            get() of an entity that does not exist
    ├── AlreadyExistsError       create() of a key that is taken
    ├── ConcurrencyError         a conditional write lost a race (the ETag no longer matches)
    │   └── LeaseLostError       the lease you hold was taken over, released or expired
    ├── ValueTooLargeError       a key, property or entity is over a Table Storage limit
    ├── UnreadableRecordError    a stored row whose property cannot be read (corrupt JSON, bad value)
    └── StorageUnavailableError  transient failures persisted after every retry
"""

from __future__ import annotations


class StorageError(Exception):
    """A state-store operation failed; the message names the table, keys and operation."""

    def __init__(
        self, message: str, *, table: str = "", operation: str = "",
        partition_key: str | None = None, row_key: str | None = None,
    ) -> None:
        self.table = table
        self.operation = operation
        self.partition_key = partition_key
        self.row_key = row_key
        where = f"{operation} on table {table!r}" if table else operation
        if partition_key is not None:
            where += f" (PartitionKey={partition_key!r}, RowKey={row_key!r})"
        super().__init__(f"{message}: {where}" if where else message)


class NotFoundError(StorageError):
    """The entity does not exist."""


class AlreadyExistsError(StorageError):
    """An entity with this key already exists."""


class ConcurrencyError(StorageError):
    """The entity changed (or vanished) since it was read; re-read and decide again."""


class LeaseLostError(ConcurrencyError):
    """The lease is no longer held by this holder."""


class ValueTooLargeError(StorageError, ValueError):
    """A key, property or entity exceeds a Table Storage limit."""


class StorageUnavailableError(StorageError):
    """Transient errors (throttling, timeouts, connection failures) outlasted the retry budget."""


class UnreadableRecordError(StorageError):
    """A stored row cannot be read: `key` names it, `property` the value, `why` what is wrong with it."""

    def __init__(self, key: str, property_name: str, why: str, *, table: str = "") -> None:
        self.key, self.property, self.why = key, property_name, why
        super().__init__(f"property {property_name} unreadable ({why})", table=table, operation="read",
                         partition_key=key)

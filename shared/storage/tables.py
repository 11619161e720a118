"""One Table Storage table behind a small, safe API: the base every repository builds on.

What it guarantees, so repositories don't have to:
* the table is created on first use (once per process and table);
* keys are escaped (see `limits.escape_key`) on the way in and unescaped on the way out;
* keys, properties and entities over the service limits are refused before sending;
* transient failures (500, 503, 408, timeouts, connection errors) are retried with bounded
  exponential backoff; the SDK's own retries are switched off by the store so they don't stack;
* every update and conditional delete is ETag-conditional; a lost race is a `ConcurrencyError`;
* a create retried after a lost answer (the first attempt was written, its response never arrived)
  is recognised: "already exists" on a *retry* whose stored properties equal ours is our own write,
  so the create succeeds with the stored ETag instead of failing as a duplicate;
* `transact` writes up to 100 upserts/merges of ONE partition atomically (an entity-group
  transaction): one round trip instead of one per entity; retried like any call, which is safe
  because upserts and merges are idempotent; a single write goes as a plain upsert/merge (the same
  effect, without a multipart body); a larger one is sent by shared/storage/batch.py (the SDK's
  bytes, without its costly email-package multipart code);
* every request (each attempt) is counted by kind (shared/storage/counting.py);
* every query is parameterised (`query_entities(filter, parameters=...)`), never string-built;
* permanent failures are raised as `StorageError` subclasses naming table, keys and operation,
  chained to the SDK error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import EntityProperty, UpdateMode
from azure.data.tables.aio import TableClient

from shared.storage import batch, counting, errors
from shared.storage.limits import escape_key, oversized_key, oversized_properties, unescape_key

T = TypeVar("T")
MAX_TRANSACTION = 100  # operations per entity-group transaction (service limit)
TRANSIENT_STATUS = frozenset({408, 500, 502, 503, 504})
_SYSTEM = ("PartitionKey", "RowKey", "Timestamp", "etag")
# azure-data-tables substitutes @params after splitting the filter on single spaces, so "(a eq @p)"
# looks up the parameter "p)". Refuse such filters up front with a clear message.
_BAD_FILTER_RE = re.compile(r"  |\([^ ]|[^ ]\)|[^ (]\(|\)[^ )]|@\w+[^\w\s]")
_KNOWN_TABLES: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for transient storage errors; `sleep` is injectable for tests."""

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 2.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class StoredEntity:
    """An entity as read: unescaped keys, custom properties, and the ETag for conditional writes."""

    partition_key: str
    row_key: str
    properties: Mapping[str, Any]
    etag: str
    timestamp: datetime | None = None


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: throttling, server errors, timeouts, connection failures."""
    if isinstance(exc, ServiceRequestError | ServiceResponseError | TimeoutError):
        return True
    return isinstance(exc, HttpResponseError) and exc.status_code in TRANSIENT_STATUS


class EntityTable:
    """Async access to one table with escaping, limits, retries and ETag conditions."""

    def __init__(self, client: TableClient, retry: RetryPolicy) -> None:
        self._client = client
        self._retry = retry
        self._ready_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self._client.table_name

    async def create(self, pk: str, rk: str, properties: Mapping[str, Any]) -> str:
        """Insert a new entity and return its ETag; AlreadyExistsError if the key is taken."""
        entity = self._entity(pk, rk, properties, "create")
        attempts = 0

        async def attempt() -> str:
            nonlocal attempts
            attempts += 1
            try:
                return str((await self._client.create_entity(entity))["etag"])
            except ResourceExistsError:
                if attempts == 1:
                    raise
                return await self._adopt_own_write(entity)

        return await self._call("create", pk, rk, attempt)

    async def _adopt_own_write(self, entity: Mapping[str, Any]) -> str:
        """On a retried create that met "already exists": the stored ETag if the stored entity is
        exactly what we wrote (our lost first attempt), else re-raise (someone else's entity)."""
        counting.count("get")
        stored = await self._client.get_entity(entity["PartitionKey"], entity["RowKey"])
        mine = {k: v for k, v in entity.items() if k not in _SYSTEM}
        theirs = {k: v for k, v in stored.items() if k not in _SYSTEM}
        if _comparable(mine) != _comparable(theirs):
            raise ResourceExistsError("the entity exists with other properties")
        return str(stored.metadata["etag"])

    async def update(self, pk: str, rk: str, properties: Mapping[str, Any], etag: str) -> str:
        """Replace the entity if its ETag still matches; ConcurrencyError if it changed or vanished."""
        entity = self._entity(pk, rk, properties, "update")
        meta = await self._call("update", pk, rk, lambda: self._client.update_entity(
            entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified))
        return str(meta["etag"])

    async def transact(self, pk: str, writes: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
        """Upsert ("upsert": insert or replace) or merge ("merge": set the given properties of an
        existing entity) rows of partition `pk`, atomically per chunk of 100 (the service's maximum)."""
        if len(writes) == 1:  # the same effect as a one-entity transaction, without the multipart body
            kind, rk, props = writes[0]
            await self._write_one(pk, rk, kind, props)
            return
        for start in range(0, len(writes), MAX_TRANSACTION):
            chunk = writes[start:start + MAX_TRANSACTION]
            ops = [self._operation(pk, rk, kind, props) for kind, rk, props in chunk]
            await self._call("transaction", pk, None, functools.partial(batch.submit, self._client, ops),
                             rows=len(ops))

    async def _write_one(self, pk: str, rk: str, kind: str, props: Mapping[str, Any]) -> None:
        if kind not in ("upsert", "merge"):
            raise ValueError(f"unknown transaction write {kind!r}")
        entity = self._entity(pk, rk, props, kind)
        write = self._client.upsert_entity if kind == "upsert" else self._client.update_entity
        mode = UpdateMode.REPLACE if kind == "upsert" else UpdateMode.MERGE
        await self._call(kind, pk, rk, lambda: write(entity, mode=mode))

    def _operation(self, pk: str, rk: str, kind: str, props: Mapping[str, Any]) -> Any:
        if kind not in ("upsert", "merge"):
            raise ValueError(f"unknown transaction write {kind!r}")
        mode = UpdateMode.REPLACE if kind == "upsert" else UpdateMode.MERGE
        return (kind if kind == "upsert" else "update", self._entity(pk, rk, props, kind), {"mode": mode})

    async def find(self, pk: str, rk: str) -> StoredEntity | None:
        """The entity, or None when it does not exist."""
        try:
            return await self.get(pk, rk)
        except errors.NotFoundError:
            return None

    async def get(self, pk: str, rk: str) -> StoredEntity:
        """The entity; NotFoundError when it does not exist."""
        raw = await self._call("get", pk, rk, lambda: self._client.get_entity(escape_key(pk), escape_key(rk)))
        return _to_stored(raw)

    async def delete(self, pk: str, rk: str, etag: str | None = None) -> None:
        """Delete; succeeds when already gone. With `etag`, ConcurrencyError if it changed meanwhile."""
        condition = MatchConditions.IfNotModified if etag else MatchConditions.Unconditionally
        await self._call("delete", pk, rk, lambda: self._client.delete_entity(
            escape_key(pk), escape_key(rk), etag=etag, match_condition=condition))

    async def query(
        self, where: str, parameters: Mapping[str, Any], *, limit: int | None = None
    ) -> list[StoredEntity]:
        """Entities matching an OData filter whose values are all `@parameters` (the first `limit`)."""
        if _BAD_FILTER_RE.search(where):
            raise ValueError(f"filter {where!r}: put single spaces around every @param and parenthesis")

        async def run() -> list[StoredEntity]:
            pages = self._client.query_entities(where, parameters=dict(parameters), results_per_page=limit)
            found: list[StoredEntity] = []
            async for raw in pages:
                found.append(_to_stored(raw))
                if limit is not None and len(found) >= limit:
                    break
            return found

        return await self._call("query", None, None, run)

    async def partition(
        self, pk: str, *, row_from: str | None = None, row_before: str | None = None,
    ) -> list[StoredEntity]:
        """Entities of one partition, optionally with row keys in [row_from, row_before)."""
        where, params = "PartitionKey eq @pk", {"pk": escape_key(pk)}
        if row_from is not None:
            where, params["lo"] = where + " and RowKey ge @lo", escape_key(row_from)
        if row_before is not None:
            where, params["hi"] = where + " and RowKey lt @hi", escape_key(row_before)
        return await self.query(where, params)

    async def all(self) -> list[StoredEntity]:
        """Every entity in the table (for small tables only)."""
        async def run() -> list[StoredEntity]:
            return [_to_stored(raw) async for raw in self._client.list_entities()]

        return await self._call("list", None, None, run)

    async def drop(self) -> None:
        """Delete the whole table (tests and cleanup)."""
        await self._call("delete table", None, None, self._client.delete_table)
        _KNOWN_TABLES.discard((self._client.url, self.name))

    async def _ensure_table(self) -> None:
        key = (self._client.url, self.name)
        if key in _KNOWN_TABLES:
            return
        async with self._ready_lock:
            if key in _KNOWN_TABLES:
                return
            await self._retrying("create table", None, None, self._create_if_missing)
            _KNOWN_TABLES.add(key)

    async def _create_if_missing(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            await self._client.create_table()

    async def _call(self, operation: str, pk: str | None, rk: str | None,
                    action: Callable[[], Awaitable[T]], *, rows: int = 0) -> T:
        await self._ensure_table()
        return await self._retrying(operation, pk, rk, action, rows=rows)

    async def _retrying(self, operation: str, pk: str | None, rk: str | None,
                        action: Callable[[], Awaitable[T]], *, rows: int = 0) -> T:
        for attempt in range(1, self._retry.attempts + 1):
            counting.count(operation, rows)  # every attempt is a request (shared/storage/counting.py)
            try:
                return await action()
            except Exception as exc:
                if not is_transient(exc) or attempt == self._retry.attempts:
                    raise self._translate(exc, operation, pk, rk, attempt) from exc
            await self._retry.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable: the last attempt either returns or raises")

    def _translate(self, exc: Exception, operation: str, pk: str | None, rk: str | None,
                   attempts: int) -> errors.StorageError:
        def error(kind: type[errors.StorageError], message: str) -> errors.StorageError:
            return kind(message, table=self.name, operation=operation, partition_key=pk, row_key=rk)

        if isinstance(exc, ResourceModifiedError) or (
                isinstance(exc, ResourceNotFoundError) and operation == "update"):
            return error(errors.ConcurrencyError, "the entity changed or vanished since it was read")
        if isinstance(exc, ResourceNotFoundError):
            return error(errors.NotFoundError, "no such entity")
        if isinstance(exc, ResourceExistsError):
            return error(errors.AlreadyExistsError, "an entity with this key already exists")
        if is_transient(exc):
            return error(errors.StorageUnavailableError,
                         f"transient failure persisted after {attempts} attempts ({_describe(exc)})")
        return error(errors.StorageError, f"storage refused the request ({_describe(exc)})")

    def _entity(self, pk: str, rk: str, properties: Mapping[str, Any], operation: str) -> dict[str, Any]:
        stored_pk, stored_rk = escape_key(pk), escape_key(rk)
        reasons = [r for r in (oversized_key(stored_pk), oversized_key(stored_rk)) if r]
        reasons += oversized_properties(properties)
        if reasons:
            raise errors.ValueTooLargeError("; ".join(reasons), table=self.name, operation=operation,
                                            partition_key=pk, row_key=rk)
        return {**properties, "PartitionKey": stored_pk, "RowKey": stored_rk}


def _describe(exc: Exception) -> str:
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code = getattr(exc, "error_code", None) or getattr(exc, "reason", "")
        return f"HTTP {exc.status_code} {code}".strip()
    return type(exc).__name__


def _comparable(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Property values as read back compare equal to the values written (typed wrappers unwrapped,
    datetimes as UTC instants)."""
    def plain(value: Any) -> Any:
        if isinstance(value, EntityProperty):
            value = value.value
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value

    return {k: plain(v) for k, v in properties.items()}


def _to_stored(raw: Any) -> StoredEntity:
    metadata = raw.metadata
    props = {k: v for k, v in raw.items() if k not in _SYSTEM}
    return StoredEntity(
        partition_key=unescape_key(raw["PartitionKey"]),
        row_key=unescape_key(raw["RowKey"]),
        properties=props,
        etag=str(metadata["etag"]),
        timestamp=metadata.get("timestamp"),
    )

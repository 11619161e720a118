"""The EntityTable base against real Azurite: escaping, hostile filters, limits, retries, ETags."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.core.pipeline.transport import AioHttpTransport

from devstack.azurite import connection_string
from devstack.process import free_port
from shared.storage import (
    AlreadyExistsError,
    ConcurrencyError,
    Cursor,
    ManagedApp,
    NotFoundError,
    RetryPolicy,
    StateStore,
    StorageError,
    StorageUnavailableError,
    ValueTooLargeError,
)
from shared.storage.limits import escape_key, unescape_key
from shared.storage.tables import EntityTable

pytestmark = pytest.mark.azurite

HOSTILE = [
    "O'Brien",
    "' or 1 eq 1",
    "x' or 'a' eq 'a",
    "Zoë \u2013 東京 🚀",
    "a/b\\c#d?e",
    "tab\there\nnewline\x00nul\x7fdel\x9fc1",
    "~7E literal tilde-escape",
    "(paren) and @param",
]


def table_of(store: StateStore, suffix: str = "apps") -> EntityTable:
    return store._tables[suffix]


@pytest.mark.parametrize("key", HOSTILE)
def test_key_escaping_is_reversible_and_storable(key: str) -> None:
    stored = escape_key(key)
    assert not any(c in stored for c in "/\\#?") and all(ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F
                                                         for c in stored)
    assert unescape_key(stored) == key


@pytest.mark.parametrize("key", HOSTILE)
async def test_hostile_keys_round_trip(state_store: StateStore, key: str) -> None:
    table = table_of(state_store)
    etag = await table.create(key, key, {"Name": key})
    got = await table.get(key, key)
    assert (got.partition_key, got.row_key, got.properties["Name"], got.etag) == (key, key, key, etag)
    assert [e.row_key for e in await table.partition(key)] == [key]
    await table.delete(key, key)
    assert await table.find(key, key) is None


async def test_hostile_values_match_only_themselves(state_store: StateStore) -> None:
    table = table_of(state_store)
    for i, value in enumerate(HOSTILE):
        await table.create("p", f"r{i}", {"Name": value})
    for i, value in enumerate(HOSTILE):
        found = await table.query("PartitionKey eq @pk and Name eq @name", {"pk": "p", "name": value})
        assert [e.row_key for e in found] == [f"r{i}"], value
    injected = await table.query("( PartitionKey eq @pk ) and ( Name eq @name )",
                                 {"pk": "p", "name": "' or 1 eq 1"})
    assert len(injected) == 1


@pytest.mark.parametrize("bad", ["(PartitionKey eq @pk)", "PartitionKey eq @pk)", "A  eq @pk", "A eq @pk)"])
async def test_filter_without_spaces_is_refused_before_sending(state_store: StateStore, bad: str) -> None:
    with pytest.raises(ValueError, match="spaces"):
        await table_of(state_store).query(bad, {"pk": "x"})


async def test_stale_etag_loses_with_concurrency_error(state_store: StateStore) -> None:
    table = table_of(state_store)
    etag = await table.create("app", "row", {"V": 1})
    first = await table.update("app", "row", {"V": 2}, etag)
    with pytest.raises(ConcurrencyError) as lost:
        await table.update("app", "row", {"V": 3}, etag)
    assert lost.value.table == table.name and lost.value.partition_key == "app"
    assert (await table.get("app", "row")).properties["V"] == 2
    with pytest.raises(ConcurrencyError):
        await table.delete("app", "row", etag)
    await table.delete("app", "row", first)
    assert await table.find("app", "row") is None


async def test_create_twice_and_get_missing_are_typed(state_store: StateStore) -> None:
    table = table_of(state_store)
    await table.create("k", "k", {})
    with pytest.raises(AlreadyExistsError, match="PartitionKey='k'"):
        await table.create("k", "k", {})
    with pytest.raises(NotFoundError):
        await table.get("k", "missing")
    with pytest.raises(ConcurrencyError):
        await table.update("k", "missing", {}, 'W/"datetime\'2020-01-01T00%3A00%3A00Z\'"')


async def test_oversized_values_are_refused_with_the_property_name(state_store: StateStore) -> None:
    table = table_of(state_store)
    await table.create("big", "max", {"Doc": "x" * 32768})  # exactly 64 KiB in UTF-16 is allowed
    with pytest.raises(ValueTooLargeError, match="'Doc' is 65538 bytes"):
        await table.create("big", "over", {"Doc": "x" * 32769})
    with pytest.raises(ValueTooLargeError, match="'Emoji'"):
        await table.create("big", "astral", {"Emoji": "🚀" * 16385})  # 4 UTF-16 bytes each
    with pytest.raises(ValueTooLargeError, match="1 MiB"):
        await table.create("big", "entity", {f"P{i}": "y" * 32000 for i in range(20)})
    with pytest.raises(ValueTooLargeError, match="properties"):
        await table.create("big", "many", {f"P{i}": i for i in range(253)})
    with pytest.raises(ValueTooLargeError, match="1024"):
        await table.create("k" * 1025, "r", {})
    assert await table.find("big", "over") is None


class FlakyTransport(AioHttpTransport):
    """The first `failures` requests fail: with a connection error, or (`status`) a real answer
    relabelled with that status code (use it for reads only: the request did reach Azurite)."""

    def __init__(self, failures: int, status: int | None = None) -> None:
        super().__init__()
        self.failures = failures
        self.status = status

    async def send(self, request, **kwargs):  # type: ignore[no-untyped-def, override]
        if self.failures > 0 and self.status is None:
            self.failures -= 1
            raise ServiceRequestError("injected connection failure")
        response = await super().send(request, **kwargs)
        if self.failures > 0 and request.method == "GET":
            self.failures -= 1
            response.status_code = self.status
        return response


async def test_server_busy_reads_are_retried(azurite: str, state_store: StateStore) -> None:
    await state_store.apps.create(ManagedApp("sp-1", "Payroll"))
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    store = StateStore.from_connection_string(azurite, state_store.prefix, transport=FlakyTransport(2, 503),
                                              retry=RetryPolicy(attempts=3, base_delay=0.5, sleep=record))
    try:
        assert (await store.apps.get("sp-1")).display_name == "Payroll"
        assert waits == [0.5, 1.0]
    finally:
        await store.close()


async def test_permanent_errors_are_not_retried_and_carry_context(azurite: str) -> None:
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    store = StateStore.from_connection_string(azurite, "bad-prefix", retry=RetryPolicy(sleep=record))
    try:
        with pytest.raises(StorageError, match=r"HTTP 400 .*create table on table 'bad-prefixapps'") as err:
            await store.apps.create(ManagedApp("sp-1", "Payroll"))
    finally:
        await store.close()
    assert type(err.value) is StorageError and err.value.__cause__ is not None
    assert waits == []


async def test_transient_failures_are_retried(azurite: str) -> None:
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    store = StateStore.from_connection_string(azurite, "tflaky", transport=FlakyTransport(3),
                                              retry=RetryPolicy(attempts=5, base_delay=0.1, sleep=record))
    try:
        await store.cursors.put(Cursor("delta", "v1", datetime(2026, 1, 1, tzinfo=UTC)))
        assert (await store.cursors.get("delta")).value == "v1"
        assert waits == [0.1, 0.2, 0.4]
    finally:
        await store.delete_tables()
        await store.close()


async def test_persistent_failure_raises_with_context() -> None:
    async def no_wait(_: float) -> None:
        return None

    port = free_port()
    store = StateStore.from_connection_string(connection_string(port, port), "tclosed",
                                              retry=RetryPolicy(attempts=2, sleep=no_wait))
    try:
        with pytest.raises(StorageUnavailableError, match="after 2 attempts") as failed:
            await store.apps.get("some-app")
        assert isinstance(failed.value.__cause__, ServiceRequestError)
        assert isinstance(failed.value, StorageError) and "tclosedapps" in str(failed.value)
    finally:
        await store.close()


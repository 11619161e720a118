"""A create whose first answer is lost after Azurite wrote it: the retry must not look like a duplicate.

The transport below lets the first entity insert reach Azurite and then drops the response (as a
connection reset after the write would), so the store's retry meets "already exists" for its own write.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import AioHttpTransport
from azure.data.tables import EdmType, EntityProperty

from shared.storage import AlreadyExistsError, InboundRequest, RetryPolicy, StateStore
from tests.conftest import FAST_RETRY

pytestmark = pytest.mark.azurite
NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


class LostAnswerTransport(AioHttpTransport):
    """The first `lost` entity inserts are written by Azurite but their answers never arrive;
    with `unsent`, they fail before sending instead (nothing is written)."""

    def __init__(self, lost: int = 1, *, unsent: bool = False) -> None:
        super().__init__()
        self.lost = lost
        self.unsent = unsent

    async def send(self, request, **kwargs):  # type: ignore[no-untyped-def, override]
        inserting = request.method == "POST" and not request.url.split("?")[0].endswith("/Tables")
        if inserting and self.lost > 0:
            self.lost -= 1
            if self.unsent:
                raise ServiceRequestError("injected: connection refused before sending")
            await super().send(request, **kwargs)
            raise ServiceResponseError("injected: connection reset after the write")
        return await super().send(request, **kwargs)


@pytest.fixture
async def lossy(azurite: str) -> AsyncIterator[tuple[StateStore, LostAnswerTransport]]:
    transport = LostAnswerTransport()
    store = StateStore.from_connection_string(azurite, f"t{uuid.uuid4().hex[:16]}", retry=FAST_RETRY,
                                              transport=transport)
    await store.leases.holder("warm-up", NOW)  # create the tables before the test's first insert
    try:
        yield store, transport
    finally:
        await store.delete_tables()
        await store.close()


async def test_lease_acquired_although_the_first_answer_was_lost(
        lossy: tuple[StateStore, LostAnswerTransport]) -> None:
    store, transport = lossy
    lease = await store.leases.acquire("app-1", "worker-a", timedelta(minutes=5), NOW)
    assert transport.lost == 0 and lease is not None
    assert await store.leases.holder("app-1", NOW) == "worker-a"
    renewed = await store.leases.renew(lease, timedelta(minutes=5), NOW)  # the ETag is the stored one
    await store.leases.release(renewed)
    assert await store.leases.holder("app-1", NOW) is None


async def test_delivery_recorded_once_although_the_first_answer_was_lost(
        lossy: tuple[StateStore, LostAnswerTransport]) -> None:
    store, transport = lossy
    fresh = InboundRequest("jira", "body:abc", "sha256:abc", NOW, NOW, decision='{"kind":"x"}')
    stored, created = await store.requests.record(fresh)
    assert transport.lost == 0 and created is True
    assert (await store.requests.update(stored)).etag != stored.etag  # the ETag we got is current


async def test_retry_meeting_someone_elses_entity_is_still_a_duplicate(azurite: str) -> None:
    transport = LostAnswerTransport(unsent=True)
    store = StateStore.from_connection_string(azurite, f"t{uuid.uuid4().hex[:16]}",
                                              retry=RetryPolicy(attempts=3, sleep=FAST_RETRY.sleep),
                                              transport=transport)
    try:
        await store.leases.holder("warm-up", NOW)
        transport.lost = 0
        assert await store.leases.acquire("app-1", "worker-b", timedelta(minutes=5), NOW) is not None
        transport.lost = 1  # our insert never leaves; the retry meets worker-b's lease
        table = store._tables["leases"]
        with pytest.raises(AlreadyExistsError):
            await table.create("app-1", "lease", {"Holder": "worker-a", "AcquiredAt": NOW,
                                                  "ExpiresAt": NOW + timedelta(minutes=5)})
        assert transport.lost == 0 and await store.leases.holder("app-1", NOW) == "worker-b"
    finally:
        await store.delete_tables()
        await store.close()


async def test_first_attempt_already_exists_is_not_adopted_even_if_equal(state_store: StateStore) -> None:
    table = state_store._tables["apps"]
    await table.create("p", "r", {"V": 1, "At": NOW, "Big": EntityProperty(2**40, EdmType.INT64)})
    with pytest.raises(AlreadyExistsError):
        await table.create("p", "r", {"V": 1, "At": NOW, "Big": EntityProperty(2**40, EdmType.INT64)})


async def test_adopted_write_compares_every_property_type(
        lossy: tuple[StateStore, LostAnswerTransport]) -> None:
    store, transport = lossy
    table = store._tables["apps"]
    props = {"Text": "Zoë", "Int": 7, "Big": EntityProperty(2**40, EdmType.INT64), "Real": 1.5,
             "Flag": True, "Blob": b"\x00\x01", "At": NOW.astimezone(UTC), "Id": uuid.UUID(int=5)}
    etag = await table.create("p", "r", props)
    assert transport.lost == 0 and (await table.get("p", "r")).etag == etag

"""The events table on Azurite: insert-if-absent, paging, retention, bounded-memory streaming."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.compliance.events import Cause, ComplianceEvent, EventKind, Source, partition_key
from shared.storage import StateStore
from shared.storage.events import EventRepo, _props, row_key
from shared.storage.limits import escape_key
from tests.conftest import FAST_RETRY

pytestmark = pytest.mark.azurite
APP = "0b5c1a52-0d5e-4d2f-9a63-1f6f2b0f5e11"
FOREVER = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))  # one query per month


def event(when: datetime, n: int = 0, app: str = APP) -> ComplianceEvent:
    return ComplianceEvent(
        time=when, event=EventKind.ACTIVATED, app_id=app, app_name="FinReport SQL", group_id="g1",
        user_id=f"user-{n}", user_upn=f"user{n}@contoso.com", source=Source.ASSIGNMENT_REQUEST,
        source_id=f"req-{n}-{when.isoformat()}", cause=Cause.PIM, trigger="self_service", start=when,
        end=when + timedelta(hours=1), duration="PT1H", justification=f"=cmd|' /C calc'!A{n}",
        ticket_system="ServiceNow", ticket_number=f"CHG{n:07d}")


async def bulk_insert(repo: EventRepo, events: list[ComplianceEvent]) -> None:
    """Fast test setup: entity group transactions of 100 per partition (the product inserts one by one)."""
    by_pk: dict[str, list[ComplianceEvent]] = {}
    for e in events:
        by_pk.setdefault(partition_key(e.app_id, e.time), []).append(e)
    await repo._table._ensure_table()
    client = repo._table._client
    for pk, items in by_pk.items():
        for i in range(0, len(items), 100):
            chunk = items[i:i + 100]
            await client.submit_transaction(
                [("create", {**_props(e), "PartitionKey": escape_key(pk), "RowKey": row_key(e)})
                 for e in chunk])


@pytest.fixture
async def repo(state_store: StateStore) -> AsyncIterator[EventRepo]:
    made = EventRepo.over(state_store._service, f"t{uuid.uuid4().hex[:12]}", FAST_RETRY)
    try:
        yield made
    finally:
        await made.drop()


async def test_insert_is_idempotent_and_reads_back_the_same_event(repo: EventRepo) -> None:
    original = event(datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=UTC))
    assert await repo.insert(original) is True
    assert await repo.insert(original) is False
    assert [e async for e in repo.events(APP, *FOREVER)] == [original]
    assert await repo.seen_ids(APP, {"2025-03"}) == {original.event_id}


async def test_pages_resume_after_a_position_across_months(repo: EventRepo) -> None:
    start = datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
    events = [event(start + timedelta(minutes=10 * i), i) for i in range(25)]  # spans January and February
    await bulk_insert(repo, events)
    pages = [p async for p in repo.pages(APP, *FOREVER, page_size=4)]
    assert [e for p in pages for e in p.events] == events
    resumed = [p async for p in repo.pages(APP, *FOREVER, after=pages[2].position, page_size=4)]
    done = sum(len(p.events) for p in pages[:3])
    assert [e for p in resumed for e in p.events] == events[done:]
    window = [e async for e in repo.events(APP, events[3].time, events[7].time)]
    assert window == events[3:7]  # start inclusive, end exclusive


async def test_retention_deletes_only_what_is_older_than_the_cutoff(repo: EventRepo) -> None:
    now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    cutoff = now - timedelta(days=400)  # 2025-02-08T12:00Z
    old = [event(datetime(2024, 12, 5, tzinfo=UTC), 1), event(datetime(2025, 1, 20, tzinfo=UTC), 2),
           event(cutoff - timedelta(microseconds=1), 3)]
    kept = [event(cutoff, 4), event(cutoff + timedelta(days=1), 5),
            event(datetime(2026, 3, 1, tzinfo=UTC), 6)]
    other_app = event(datetime(2024, 12, 5, tzinfo=UTC), 7, app="another-app")
    for e in [*old, *kept, other_app]:
        await repo.insert(e)
    assert await repo.purge(APP, now, 400) == 3
    assert [e async for e in repo.events(APP, *FOREVER)] == kept
    assert [e async for e in repo.events("another-app", *FOREVER)] == [other_app]
    assert await repo.purge(APP, now, 400) == 0


async def test_report_streams_within_bounded_memory(repo: EventRepo) -> None:
    """1,500 events through the CLI's streaming path; the 100,000-event run is bench/compliance_stream.py."""
    from shared.compliance.report import iter_csv

    start = datetime(2025, 6, 1, tzinfo=UTC)
    await bulk_insert(repo, [event(start + timedelta(minutes=i), i) for i in range(1500)])

    async def streamed(end: datetime) -> int:
        lines = 0
        async for page in repo.pages(APP, FOREVER[0], end, page_size=100):
            lines += sum(1 for _ in iter_csv(page.events))
        return lines

    async def loaded() -> int:
        everything = [e async for e in repo.events(APP, *FOREVER)]
        return len(everything)

    small_peak, small = await traced_peak(lambda: streamed(start + timedelta(minutes=300)))
    stream_peak, lines = await traced_peak(lambda: streamed(FOREVER[1]))
    load_peak, count = await traced_peak(loaded)
    assert (small, lines, count) == (300 + 3, 1500 + 15, 1500)  # a CSV header per page of 100
    # five times the events: loading grows with them, streaming stays at about one page
    assert stream_peak < small_peak * 1.5, f"{stream_peak / 1e6:.2f} MB vs {small_peak / 1e6:.2f} MB"
    assert stream_peak < load_peak, f"streaming {stream_peak / 1e6:.2f} MB vs {load_peak / 1e6:.2f} MB"


async def traced_peak(run: Any) -> tuple[int, Any]:
    """Peak traced memory above the starting point while `run()` executes, and its result."""
    gc.collect()
    tracemalloc.start()
    try:
        result = await run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result

"""Benchmark: stream a 100,000-event compliance report out of Table Storage (Azurite) and measure the
tracemalloc peak of the CLI's streaming path (`report_lines`' page loop + iter_jsonl / iter_csv).

    .venv/bin/python -m bench.compliance_stream [--events 100000] [--page-size 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

from shared.compliance.events import Cause, ComplianceEvent, EventKind, Source, partition_key
from shared.compliance.report import iter_csv, iter_jsonl
from shared.storage import StateStore
from shared.storage.events import EventRepo, _props, row_key
from shared.storage.limits import escape_key

APP = "0b5c1a52-0d5e-4d2f-9a63-1f6f2b0f5e11"
START = datetime(2025, 1, 1, tzinfo=UTC)


def make_event(n: int) -> ComplianceEvent:
    when = START + timedelta(minutes=5 * n)  # 100,000 events span about 11.5 months
    return ComplianceEvent(
        time=when, event=EventKind.ACTIVATED, app_id=APP, app_name="FinReport SQL", group_id="g1",
        user_id=f"user-{n % 500}", user_upn=f"user{n % 500}@contoso.com", source=Source.ASSIGNMENT_REQUEST,
        source_id=f"req-{n}", cause=Cause.PIM, trigger="self_service", start=when,
        end=when + timedelta(hours=1), duration="PT1H", justification="month-end close, see ticket",
        ticket_system="ServiceNow", ticket_number=f"CHG{n:07d}")


async def load(repo: EventRepo, count: int) -> None:
    """Insert `count` events with entity group transactions of 100 (setup only)."""
    await repo._table._ensure_table()
    batch: list[ComplianceEvent] = []
    for n in range(count):
        batch.append(make_event(n))
        if len(batch) == 100 or n == count - 1 or partition_key(APP, batch[0].time) != partition_key(
                APP, make_event(n + 1).time):
            pk = escape_key(partition_key(APP, batch[0].time))
            await repo._table._client.submit_transaction(
                [("create", {**_props(e), "PartitionKey": pk, "RowKey": row_key(e)}) for e in batch])
            batch = []


async def stream(repo: EventRepo, fmt: str, page_size: int) -> tuple[int, int, int]:
    """(lines, bytes, tracemalloc peak) of one streamed report."""
    render = iter_jsonl if fmt == "json" else iter_csv
    gc.collect()
    tracemalloc.start()
    lines = size = 0
    async for page in repo.pages(APP, START, START + timedelta(days=400), page_size=page_size):
        for line in render(page.events):
            lines += 1
            size += len(line.encode())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return lines, size, peak


async def main(count: int, page_size: int) -> None:
    from devstack.azurite import Azurite

    with Azurite.start() as azurite:
        store = StateStore.from_connection_string(azurite.connection_string, f"b{uuid.uuid4().hex[:8]}")
        repo = EventRepo.over(store._service, store.prefix)
        started = time.monotonic()
        await load(repo, count)
        print(f"loaded {count} events in {time.monotonic() - started:.1f} s")
        for fmt in ("json", "csv"):
            started = time.monotonic()
            lines, size, peak = await stream(repo, fmt, page_size)
            print(f"{fmt}: {lines} lines, {size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s, "
                  f"tracemalloc peak {peak / 1e6:.2f} MB (page size {page_size})")
        await repo.drop()
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.page_size))

"""Table Storage requests are counted by kind at the storage seam (shared/storage/counting.py), against
real Azurite: what a benchmark reports as the engine's table operations."""

from __future__ import annotations

import asyncio

import pytest

from shared.storage import StateStore
from shared.storage.counting import TOTALS, TableStats, counting

pytestmark = pytest.mark.azurite


async def test_each_request_counts_once_by_kind(state_store: StateStore) -> None:
    table = state_store._tables["cursors"]
    await table.find("warm", "up")  # creates the table (counted as a table request)
    with counting() as ops:
        etag = await table.create("p", "a", {"n": 1})
        await table.update("p", "a", {"n": 2}, etag)
        await table.get("p", "a")
        assert await table.find("p", "missing") is None  # a read that found nothing is still a read
        await table.transact("p", [("upsert", f"r{i}", {"n": i}) for i in range(3)])
        await table.transact("p", [("merge", "r0", {"m": 1})])  # one row: a plain merge, no batch
        await table.partition("p")
        await table.delete("p", "a")
    assert ops == TableStats(reads=2, writes=4, transactions=1, queries=1, transaction_rows=3)
    assert ops.requests == 8


async def test_contexts_count_apart_and_nested_ones_count_into_their_parents(
    state_store: StateStore,
) -> None:
    table = state_store._tables["cursors"]
    await table.find("warm", "up")
    before = TOTALS.reads

    async def reads(n: int) -> TableStats:
        with counting() as ops:
            for i in range(n):
                await table.find("p", f"r{i}")
            return ops

    with counting() as outer:
        first, second = await asyncio.gather(reads(2), reads(3))
    assert (first.reads, second.reads, outer.reads) == (2, 3, 5)
    assert TOTALS.reads - before == 5

"""A reconcile reads its app record once and writes on top of what it last stored (AppRecords with a
known record), and the ETag keeps that safe: a record changed meanwhile is read again, never
overwritten."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.engine.record import AppRecords
from shared.storage import ManagedApp, StateStore
from shared.storage.counting import counting

pytestmark = pytest.mark.azurite


async def test_a_record_changed_since_it_was_read_is_read_again_not_overwritten(
    state_store: StateStore,
) -> None:
    read = await state_store.apps.create(ManagedApp("app1", "One"))
    await state_store.apps.update(replace(read, profile="strict"))  # another writer, after our read
    await AppRecords(state_store, known=read).change("app1", "One", lambda r: replace(r, last_error="x"))
    stored = await state_store.apps.get("app1")
    assert (stored.profile, stored.last_error) == ("strict", "x")


async def test_a_record_created_since_it_was_found_missing_is_updated(state_store: StateStore) -> None:
    records = AppRecords(state_store, known=None)
    await state_store.apps.create(ManagedApp("app2", "Two", profile="strict"))
    await records.change("app2", "Two", lambda r: replace(r, last_error="y"))
    stored = await state_store.apps.get("app2")
    assert (stored.profile, stored.last_error) == ("strict", "y")


async def test_changes_build_on_what_the_last_one_stored_without_reading_again(
    state_store: StateStore,
) -> None:
    records = AppRecords(state_store, known=None)
    with counting() as ops:
        await records.change("app3", "Three", lambda r: replace(r, role_groups={"r1": "g1"}))
        await records.change("app3", "Three", lambda r: replace(r, role_groups={**r.role_groups, "r2": "g2"}))
    assert (await state_store.apps.get("app3")).role_groups == {"r1": "g1", "r2": "g2"}
    assert (ops.reads, ops.writes) == (0, 2)

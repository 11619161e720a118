"""The audit log against real Azurite: time order, month partitions, ranges, truncation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.storage import AuditEvent, StateStore, json_or_none
from shared.storage.audit import PENDING, audit_partition, intent_id

pytestmark = pytest.mark.azurite

T0 = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)


def event(when: datetime, action: str, app_id: str = "app-1", **kw: object) -> AuditEvent:
    return AuditEvent(when=when, app_id=app_id, action=action, cause="timer", **kw)  # type: ignore[arg-type]


async def test_events_come_back_in_time_order_across_months(state_store: StateStore) -> None:
    audit = state_store.audit
    times = [T0 + timedelta(microseconds=1), T0, T0 - timedelta(days=3), T0 + timedelta(days=2)]
    for i, when in enumerate(times):
        await audit.append(event(when, f"Event{i}"))
    await audit.append(event(T0, "OtherApp", app_id="app-2"))
    found = await audit.query("app-1", T0 - timedelta(days=10), T0 + timedelta(days=10))
    assert [e.action for e in found] == ["Event2", "Event1", "Event0", "Event3"]
    assert [e.when for e in found] == sorted(times)


async def test_same_microsecond_appends_never_collide_and_keep_append_order(state_store: StateStore) -> None:
    for i in range(5):
        await state_store.audit.append(event(T0, f"E{i}"))
    found = await state_store.audit.query("app-1", T0, T0 + timedelta(seconds=1))
    assert [e.action for e in found] == ["E0", "E1", "E2", "E3", "E4"]
    assert len({e.event_id for e in found}) == 5


async def test_range_is_half_open_and_one_month_is_one_partition(state_store: StateStore) -> None:
    audit = state_store.audit
    for day in (1, 2, 3):
        await audit.append(event(datetime(2026, 2, day, tzinfo=UTC), f"Feb{day}"))
    found = await audit.query("app-1", datetime(2026, 2, 2, tzinfo=UTC), datetime(2026, 2, 3, tzinfo=UTC))
    assert [e.action for e in found] == ["Feb2"]
    partition = await state_store._tables["audit"].partition(audit_partition("app-1", T0 + timedelta(days=1)))
    assert len(partition) == 3


async def test_fields_round_trip_and_oversized_documents_are_truncated_with_a_marker(
        state_store: StateStore) -> None:
    before = {"members": ["x" * 40000]}
    stored = await state_store.audit.append(event(
        T0, "PolicyRuleCorrected", actor="operator:alice@contoso.com", target="rule:Expiration_EndUser",
        before=json_or_none(before), after=json_or_none({"ok": True}), outcome="succeeded", detail="d"))
    assert stored.truncated == ("Before",)
    [read] = await state_store.audit.query("app-1", T0, T0 + timedelta(seconds=1))
    assert read.truncated == ("Before",) and read.event_id == stored.event_id
    assert read.before is not None and "[truncated by PIM Warden; original" in read.before
    assert json.loads(read.after or "") == {"ok": True}
    assert (read.actor, read.target, read.cause, read.detail) == (
        "operator:alice@contoso.com", "rule:Expiration_EndUser", "timer", "d")


async def test_intents_are_stored_in_transactions_found_while_pending_and_completed_once(
    state_store: StateStore,
) -> None:
    audit, now = state_store.audit, T0 + timedelta(days=1)  # February: January is still searched
    old = replace(event(T0, "GroupCreated", outcome=PENDING), event_id=intent_id(T0, 0, "old"))
    intents = [replace(event(now, f"Step{i}", outcome=PENDING), event_id=intent_id(now, i, f"k{i}"))
               for i in range(130)]  # more than one transaction (100 operations at most)
    await audit.record([old, *intents])
    await audit.record(intents[:3])  # a retried store writes the same rows again
    pending = await audit.pending("app-1", now)
    assert [e.event_id for e in pending] == [old.event_id] + [e.event_id for e in intents]
    await audit.complete([(old, "applied", None), (intents[0], "applied", '{"pim_request_id":"r1"}')],
                         now, resolution="by a later run")
    found = {e.event_id: e for e in await audit.query("app-1", T0, now + timedelta(seconds=1))}
    assert found[old.event_id].outcome == "applied" and found[old.event_id].completed == now
    assert found[old.event_id].resolution == "by a later run" and found[old.event_id].action == "GroupCreated"
    assert json.loads(found[intents[0].event_id].after or "{}") == {"pim_request_id": "r1"}
    assert len(await audit.pending("app-1", now)) == 129

"""Repositories against real Azurite: round trips, ETag conflicts, insert-if-absent, filtered lists."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.storage import (
    AlreadyExistsError,
    AppStatus,
    ConcurrencyError,
    Cursor,
    Grant,
    GrantStatus,
    InboundRequest,
    ManagedApp,
    NotFoundError,
    Registration,
    RequestStatus,
    StateStore,
)

pytestmark = pytest.mark.azurite

NOW = datetime(2026, 5, 4, 10, 30, 15, 123456, tzinfo=UTC)


async def test_managed_app_round_trip_and_two_writers_one_loses(state_store: StateStore) -> None:
    apps = state_store.apps
    app = ManagedApp("sp-1", "Payroll", role_groups={"role-a": "group-a"}, policy_fingerprint="f1",
                     last_reconcile=NOW, last_error="boom")
    created = await apps.create(app)
    assert await apps.get("sp-1") == created
    writer_a, writer_b = await apps.get("sp-1"), await apps.get("sp-1")
    await apps.update(replace(writer_a, policy_fingerprint="f2"))
    with pytest.raises(ConcurrencyError, match="changed or vanished"):
        await apps.update(replace(writer_b, status=AppStatus.ERROR))
    stored = await apps.get("sp-1")
    assert (stored.policy_fingerprint, stored.status) == ("f2", AppStatus.MANAGED)


async def test_managed_app_create_get_find_list(state_store: StateStore) -> None:
    apps = state_store.apps
    await apps.create(ManagedApp("sp-1", "One"))
    await apps.create(ManagedApp("sp-2", "Two", status=AppStatus.OUT_OF_SCOPE, in_scope=False))
    with pytest.raises(AlreadyExistsError):
        await apps.create(ManagedApp("sp-1", "Again"))
    with pytest.raises(NotFoundError):
        await apps.get("sp-3")
    assert await apps.find("sp-3") is None
    assert sorted(a.app_id for a in await apps.list()) == ["sp-1", "sp-2"]
    assert [a.app_id for a in await apps.list(status=AppStatus.OUT_OF_SCOPE)] == ["sp-2"]


async def test_cursor_put_creates_then_updates_conditionally(state_store: StateStore) -> None:
    cursors = state_store.cursors
    first = await cursors.put(Cursor("users-delta", "https://graph/delta?token=1", NOW))
    with pytest.raises(AlreadyExistsError):
        await cursors.put(Cursor("users-delta", "other", NOW))
    moved = await cursors.put(replace(first, value="token=2"))
    with pytest.raises(ConcurrencyError):
        await cursors.put(replace(first, value="token=stale"))
    assert await cursors.get("users-delta") == moved
    await cursors.delete("users-delta")
    assert await cursors.find("users-delta") is None


async def test_inbound_request_is_insert_if_absent(state_store: StateStore) -> None:
    requests = state_store.requests
    incoming = InboundRequest("jira", "delivery/1#?", body_hash="h1", created=NOW, updated=NOW)
    stored, created = await requests.record(incoming)
    assert created and stored.etag
    applied = await requests.update(replace(stored, status=RequestStatus.APPLIED, answer_status=201,
                                            answer_body='{"grant":"g1"}', app_id="sp-1", updated=NOW))
    again, created_again = await requests.record(replace(incoming, body_hash="h2"))
    assert not created_again
    assert again == applied and again.body_hash == "h1" and again.answer_status == 201
    with pytest.raises(ConcurrencyError):
        await requests.update(replace(stored, status=RequestStatus.REFUSED))


async def test_grants_list_open_per_app_and_principal_and_close(state_store: StateStore) -> None:
    grants = state_store.grants
    g1 = await grants.create(Grant("sp-1", "g1", "user-a", NOW, NOW + timedelta(days=30),
                                   principal_upn="a@contoso.com", ticket_system="jira",
                                   ticket_number="OPS-1"))
    await grants.create(Grant("sp-1", "g2", "user-b", NOW))
    await grants.create(Grant("sp-2", "g3", "user-a", NOW))
    assert sorted(g.grant_id for g in await grants.list_open("sp-1")) == ["g1", "g2"]
    assert [g.grant_id for g in await grants.list_open("sp-1", "user-a")] == ["g1"]
    closed = await grants.close(g1, "ticket resolved", NOW + timedelta(days=1))
    assert [g.grant_id for g in await grants.list_open("sp-1")] == ["g2"]
    assert await grants.get("sp-1", "g1") == closed
    assert closed.status is GrantStatus.CLOSED and closed.ends == NOW + timedelta(days=30)
    with pytest.raises(ConcurrencyError):
        await grants.close(g1, "again", NOW)


async def test_hostile_principal_filter_matches_nothing_extra(state_store: StateStore) -> None:
    await state_store.grants.create(Grant("sp-1", "g1", "user-a", NOW))
    assert await state_store.grants.list_open("sp-1", "' or 1 eq 1") == []
    assert await state_store.grants.list_open("sp-1' or PartitionKey ne '") == []


async def test_registrations_put_get_list_delete(state_store: StateStore) -> None:
    regs = state_store.registrations
    reg = await regs.put(Registration("sp-1", "strict", "alice@contoso.com", NOW, reason="SOX"))
    await regs.put(Registration("sp-2", "standard", "bob@contoso.com", NOW))
    changed = await regs.put(replace(reg, profile="standard"))
    with pytest.raises(ConcurrencyError):
        await regs.put(replace(reg, profile="lax"))
    assert await regs.get("sp-1") == changed
    assert sorted(r.app_id for r in await regs.list()) == ["sp-1", "sp-2"]
    await regs.delete("sp-1")
    await regs.delete("sp-1")
    assert await regs.find("sp-1") is None

"""Per-app leases against real Azurite: one winner under contention, expiry, renew, lost release."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.storage import LeaseLostError, StateStore

pytestmark = pytest.mark.azurite

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


async def test_ten_concurrent_takers_exactly_one_wins(state_store: StateStore) -> None:
    leases = state_store.leases
    await leases.holder("warm-up", NOW)  # create the table first so the race is about the lease
    results = await asyncio.gather(*(leases.acquire("app-1", f"worker-{i}", TTL, NOW) for i in range(10)))
    winners = [lease for lease in results if lease is not None]
    assert len(winners) == 1
    assert await leases.holder("app-1", NOW) == winners[0].holder


async def test_ten_concurrent_takers_of_an_expired_lease_exactly_one_wins(state_store: StateStore) -> None:
    leases = state_store.leases
    assert await leases.acquire("app-1", "old", TTL, NOW)
    later = NOW + TTL
    results = await asyncio.gather(*(leases.acquire("app-1", f"worker-{i}", TTL, later) for i in range(10)))
    assert len([lease for lease in results if lease is not None]) == 1


async def test_unexpired_lease_is_refused_then_expired_lease_is_taken_over(state_store: StateStore) -> None:
    leases = state_store.leases
    first = await leases.acquire("app-1", "a", TTL, NOW)
    assert first is not None
    assert await leases.acquire("app-1", "b", TTL, NOW + TTL - timedelta(seconds=1)) is None
    taken = await leases.acquire("app-1", "b", TTL, NOW + TTL)
    assert taken is not None and taken.expires_at == NOW + 2 * TTL
    assert await leases.holder("app-1", NOW + TTL) == "b"
    with pytest.raises(LeaseLostError, match="no longer held by 'a'"):
        await leases.release(first)
    with pytest.raises(LeaseLostError):
        await leases.renew(first, TTL, NOW + TTL)
    assert await leases.holder("app-1", NOW + TTL) == "b"


async def test_holder_can_reacquire_renew_and_release(state_store: StateStore) -> None:
    leases = state_store.leases
    lease = await leases.acquire("app-1", "a", TTL, NOW)
    assert lease is not None
    again = await leases.acquire("app-1", "a", TTL, NOW + timedelta(minutes=1))
    assert again is not None and again.etag != lease.etag
    renewed = await leases.renew(again, TTL, NOW + timedelta(minutes=2))
    assert renewed.expires_at == NOW + timedelta(minutes=7)
    await leases.release(renewed)
    assert await leases.holder("app-1", NOW + timedelta(minutes=2)) is None
    assert await leases.acquire("app-1", "b", TTL, NOW + timedelta(minutes=2)) is not None
    with pytest.raises(LeaseLostError):
        await leases.release(renewed)


async def test_leases_are_per_app(state_store: StateStore) -> None:
    leases = state_store.leases
    assert await leases.acquire("app-1", "a", TTL, NOW)
    assert await leases.acquire("app-2", "b", TTL, NOW)

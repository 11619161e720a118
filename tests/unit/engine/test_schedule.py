"""The due list's merge/encoding and next-due computation (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.ids import AppId, AppRoleId, GrantId, GroupId, PrincipalId, ServicePrincipalId
from shared.domain.model import (
    AccessId,
    DesiredApp,
    EligibilityGrant,
    EligibilityInstance,
    ObservedApp,
    ObservedRole,
)
from shared.domain.profiles import load_profiles
from shared.engine.schedule import DueList, _decode, _encode, merge, next_due

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROLE = AppRoleId("00000000-0000-0000-0000-000000000000")


def test_merge_sets_and_clears() -> None:
    due = merge(DueList({"a": NOW, "b": NOW}, overflow=True), {"a": None, "c": NOW}, clear_overflow=True)
    assert due == DueList({"b": NOW, "c": NOW}, overflow=False)
    assert due.due_at(NOW) == {"b", "c"} and due.due_at(NOW - timedelta(seconds=1)) == frozenset()


def test_encoding_round_trips_and_overflows_instead_of_truncating() -> None:
    small = DueList({"a": NOW})
    assert _decode(_encode(small)) == small
    big = DueList({f"{i:036d}": NOW + timedelta(seconds=i) for i in range(2000)})
    decoded = _decode(_encode(big))
    assert decoded.overflow and 0 < len(decoded.entries) < 2000
    assert min(big.entries.values()) in decoded.entries.values()  # the earliest are kept


def _grant(starts: datetime, ends: datetime | None) -> EligibilityGrant:
    return EligibilityGrant(GrantId("g"), PrincipalId("u"), ROLE, starts, ends, "why")


def test_next_due_is_the_earliest_grant_boundary_or_deferred_removal() -> None:
    desired = DesiredApp(ServicePrincipalId("sp"), AppId("a"), load_profiles().get(None), ())
    observed = ObservedApp(ServicePrincipalId("sp"), None)
    assert next_due(desired, observed, [], NOW) is None
    grants = [
        _grant(NOW - timedelta(hours=1), NOW + timedelta(days=2)),
        _grant(NOW + timedelta(hours=3), None),
    ]
    assert next_due(desired, observed, grants, NOW) == NOW + timedelta(hours=3)
    fresh = EligibilityInstance(
        PrincipalId("x"),
        GroupId("g"),
        AccessId.MEMBER,
        NOW - timedelta(minutes=1),
        None,
        created=NOW - timedelta(minutes=1),
    )
    observed = ObservedApp(ServicePrincipalId("sp"), None, {ROLE: ObservedRole(ROLE, eligibilities=(fresh,))})
    due = next_due(desired, observed, grants, NOW)
    assert due is not None and NOW + timedelta(minutes=4) < due < NOW + timedelta(minutes=5)

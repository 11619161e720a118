"""The pure parts of the narrowed change signals: chunks of managed groups, their keys, the stored
links (old cursor form included), and the $filter texts sent to Graph."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.engine.signals import chunk_key, delta_chunks, stored_links
from shared.graph.signal_queries import AUDIT_ACTIVITIES, audit_filter, group_id_filter


def ids(n: int) -> list[str]:
    return [f"{i:08d}-0000-0000-0000-000000000000" for i in range(n)]


def test_groups_are_chunked_by_fifty_sorted_and_without_repeats() -> None:
    groups = list(reversed(ids(101))) + ids(3)
    parts = delta_chunks(groups, max_chunks=3)
    assert parts is not None and [len(p) for p in parts] == [50, 50, 1]
    assert [g for p in parts for g in p] == sorted(set(groups))


def test_too_many_chunks_means_one_tenant_wide_delta() -> None:
    assert delta_chunks(ids(100), max_chunks=2) is not None
    assert delta_chunks(ids(101), max_chunks=2) is None
    assert delta_chunks(ids(1), max_chunks=0) is None


def test_a_chunk_key_depends_on_its_groups_not_their_order() -> None:
    assert chunk_key(["b", "a"]) == chunk_key(["a", "b"])
    assert chunk_key(["a", "b"]) != chunk_key(["a", "c"])


def test_stored_links_read_both_cursor_forms() -> None:
    assert stored_links("") == {}
    assert stored_links(json.dumps({"groups": "f", "link": "L"})) == {"*": "L"}  # before chunks
    assert stored_links(json.dumps({"groups": "f", "link": None})) == {}
    assert stored_links(json.dumps({"links": {"k1": "A", "k2": "B"}})) == {"k1": "A", "k2": "B"}


def test_group_id_filter_quotes_and_limits() -> None:
    assert group_id_filter(["a", "b'c"]) == "id eq 'a' or id eq 'b''c'"
    assert group_id_filter(ids(50)).count(" or ") == 49
    for wrong in ([], ids(51)):
        with pytest.raises(ValueError):
            group_id_filter(wrong)


def test_audit_filter_keeps_the_window_and_names_every_kind_that_matters() -> None:
    text = audit_filter(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2025, 1, 2, 3, 19, 6, tzinfo=UTC))
    window, _, kinds = text.partition(" and (")
    assert window == "activityDateTime ge 2025-01-02T03:04:05Z and activityDateTime le 2025-01-02T03:19:06Z"
    assert kinds.endswith(")") and "category" not in text
    assert "loggedByService eq 'PIM'" in kinds
    assert "startswith(activityDisplayName,'Add app role assignment')" in kinds
    assert "startswith(activityDisplayName,'Remove app role assignment')" in kinds
    for activity in ("Add member to group", "Add owner to group", "Delete group", *AUDIT_ACTIVITIES):
        assert f"activityDisplayName eq '{activity}'" in kinds

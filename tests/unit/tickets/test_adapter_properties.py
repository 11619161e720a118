"""Property tests: whatever JSON arrives, an adapter answers a valid decision or a PayloadError.

Inputs are arbitrary JSON, and valid payloads with any field swapped for arbitrary JSON, unicode or
OData-looking text. Decisions that come out must satisfy the contract's invariants (a GUID app, a
principal user, a positive bounded duration, one-line justification), so nothing odd slips through.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.tickets import formats
from shared.tickets.adapters import generic, jira, servicenow
from shared.tickets.decisions import DECISION_TYPES, Decision, GrantEligibility, RevokeEligibility
from shared.tickets.errors import PayloadError
from tests.unit.tickets.test_generic import GRANT, REGISTER
from tests.unit.tickets.test_jira import CONFIG as JIRA_CONFIG
from tests.unit.tickets.test_jira import EVENT
from tests.unit.tickets.test_servicenow import RITM

ODATA = st.sampled_from(
    [
        "x' or 1 eq 1 or 'a' eq 'a",
        "$filter=startswith(displayName,'a')",
        "../../users",
        "%27%20or%20",
        "a@b.com' or id ne '",
        "00000000-0000-0000-0000-000000000000')/members/$ref",
        "\u202e@contoso.com",
        "ann\u0000@contoso.com",
        "Approved\n",
        "P1DT",
        "PT0S",
        "P99999D",
        "1e309",
        "NaN",
        "-5",
        "3",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    ODATA,
    st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), ODATA), inner, max_size=4),
    ),
    max_leaves=12,
)

ADAPTERS: list[tuple[str, Callable[[object], Decision], dict[str, Any]]] = [
    ("generic-grant", lambda p: generic.adapt(p, generic.GenericConfig()), GRANT),
    ("generic-register", lambda p: generic.adapt(p, generic.GenericConfig()), REGISTER),
    ("servicenow", lambda p: servicenow.adapt(p, servicenow.ServiceNowConfig()), RITM),
    ("jira", lambda p: jira.adapt(p, JIRA_CONFIG), EVENT),
]


def leaf_paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        out = [prefix] if prefix else []
        for key, inner in value.items():
            out += leaf_paths(inner, (*prefix, key))
        return out
    if isinstance(value, list):
        return [prefix, *[p for i, v in enumerate(value) for p in leaf_paths(v, (*prefix, i))]]
    return [prefix]


def replace(base: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(base)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def check(adapter: Callable[[object], Decision], payload: object) -> None:
    try:
        decision = adapter(payload)
    except PayloadError as error:
        assert error.errors and all(isinstance(e.path, str) and e.message for e in error.errors)
        return
    assert isinstance(decision, DECISION_TYPES)
    if isinstance(decision, GrantEligibility | RevokeEligibility):
        assert formats.is_principal(decision.user) and formats.is_guid(decision.app)
    if isinstance(decision, GrantEligibility):
        assert decision.duration is None or timedelta(0) < decision.duration <= timedelta(days=3650)
        assert 0 < len(decision.justification) <= 500 and formats.matches(
            formats.TEXT, decision.justification
        )
        assert decision.app_role is None or formats.is_guid(decision.app_role)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ADAPTERS), JSON)
def test_arbitrary_json_never_raises_anything_else(adapter: Any, payload: object) -> None:
    check(adapter[1], payload)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ADAPTERS), st.data())
def test_any_field_replaced_by_anything_keeps_the_contract(adapter: Any, data: st.DataObject) -> None:
    _, adapt, base = adapter
    payload = base
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(leaf_paths(payload)))
        payload = replace(payload, path, data.draw(JSON))
    check(adapt, payload)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ADAPTERS), st.text(min_size=1, max_size=20), JSON)
def test_extra_fields_anywhere_keep_the_contract(adapter: Any, key: str, value: object) -> None:
    _, adapt, base = adapter
    check(adapt, {**base, key: value})

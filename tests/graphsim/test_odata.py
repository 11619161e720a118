"""The OData helpers: $filter semantics (table), syntax errors as Graph's 400, $select, paging;
and a hypothesis fuzz that no input makes the app answer 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphsim.errors import GraphError
from graphsim.http import SimRequest
from graphsim.odata import compile_filter, page, select_fields

OBJ = {
    "id": "a1",
    "displayName": "Fin Report",
    "tags": ["HideApp", "HighValue"],
    "n": 3,
    "flag": True,
    "when": "2025-01-02T00:00:00Z",
    "targetResources": [{"id": "g1", "type": "Group"}],
    "none": None,
    "customSecurityAttributes": {"Eng": {"Project": "Baker"}},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("displayName eq 'fin report'", True),
        ("displayName ne 'Fin Report'", False),
        ("tags/any(t:t eq 'highvalue')", True),
        ("tags/any(x: startswith(x,'Hide'))", True),
        ("tags/all(t:t eq 'HideApp')", False),
        ("targetResources/any(t:t/id eq 'g1')", True),
        ("when ge 2025-01-01T00:00:00Z and when lt 2025-01-03T00:00:00Z", True),
        ("n gt 2 and (flag eq true or n eq 1)", True),
        ("not (n le 3)", False),
        ("id in ('b', 'a1')", True),
        ("none eq null", True),
        ("endswith(displayName,'REPORT')", True),
        ("displayName eq 'O''Brien'", False),
        ("customSecurityAttributes/Eng/Project eq 'Baker'", True),
        ("customSecurityAttributes/Eng/Project eq 'baker'", False),
    ],
)
def test_filter_semantics(text, expected):
    assert compile_filter(text)(OBJ) is expected


@pytest.mark.parametrize(
    "text",
    [
        "id eq",
        "id eq 'x",
        "foo bar",
        "(id eq 'a'",
        "tags/any(t:t eq 'x'",
        "startswith(id)",
        "eq 'x'",
        "",
        "id eq 'a' and",
    ],
)
def test_bad_filters_are_graph_400(text):
    with pytest.raises(GraphError) as info:
        compile_filter(text)
    assert info.value.status == 400 and "Invalid filter clause" in info.value.message


def test_select_is_case_insensitive():
    assert select_fields(OBJ, "ID,DisplayName") == {"id": "a1", "displayName": "Fin Report"}


def _req(**params):
    return SimRequest("GET", "/users", params, {}, None, base_url="https://graph.local/v1.0")


def test_page_links_and_top_limits():
    items = [{"id": str(i)} for i in range(5)]
    first = page(_req(**{"$top": "2", "$filter": "x eq 'y'"}), items, context_url="ctx")
    assert first["value"] == items[:2] and first["@odata.nextLink"].startswith(
        "https://graph.local/v1.0/users?"
    )
    assert "$filter=x%20eq%20%27y%27" in first["@odata.nextLink"]
    with pytest.raises(GraphError):
        page(_req(**{"$top": "1000"}), items, context_url="ctx")
    with pytest.raises(GraphError) as info:
        page(_req(**{"$skiptoken": "!!"}), items, context_url="ctx")
    assert info.value.code == "Directory_ExpiredPageToken"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_filter_text_compiles_or_is_a_400(text):
    try:
        compile_filter(text)(OBJ)
    except GraphError as err:
        assert err.status == 400


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
TARGETS = [
    "/groups",
    "/groups/G",
    "/servicePrincipals/S",
    "/servicePrincipals/S/appRoleAssignedTo",
    "/groups/G/members/$ref",
    "/$batch",
    "/groups(uniqueName='k')",
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(TARGETS),
    st.sampled_from(["POST", "PATCH"]),
    JSONISH
    | st.dictionaries(
        st.sampled_from(
            [
                "displayName",
                "mailNickname",
                "mailEnabled",
                "securityEnabled",
                "tags",
                "appRoleAssignmentRequired",
                "principalId",
                "requests",
                "@odata.id",
                "groupTypes",
                "customSecurityAttributes",
            ]
        ),
        JSONISH,
        max_size=4,
    ),
)
def test_bad_input_never_answers_500(target, method, body):
    import asyncio

    import httpx

    from graphsim.app import build_app
    from graphsim.testing import asgi_transport

    sim = build_app(check_permissions=False)
    sim.tenant.groups["G"] = {"id": "G", "displayName": "G", "groupTypes": []}
    sim.tenant.members["G"], sim.tenant.owners["G"] = {}, {}
    sim.tenant.service_principals["S"] = {"id": "S", "appId": "A", "appRoles": []}

    async def send():
        async with httpx.AsyncClient(
            transport=asgi_transport(sim),
            base_url="https://graph.local/v1.0",
            headers={"Authorization": "Bearer t"},
        ) as client:
            return await client.request(method, target, json=body)

    resp = asyncio.run(send())
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert "error" in resp.json()


async def test_malformed_json_is_400(http):
    resp = await http.post("/groups", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "BadRequest"

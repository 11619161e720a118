"""The narrowed change-signal queries, answered as the docs describe them.

directoryaudit.md names the filterable properties (activityDateTime eq/ge/le, activityDisplayName
eq/startswith, loggedByService eq, targetResources and initiatedBy paths, id, correlationId);
directoryaudit-list.md example 2 filters on initiatedBy/user/id. group-delta.md allows
`$filter=id eq '..' or id eq '..'` on at most 50 groups.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.graph.signal_queries import AUDIT_SELECT, audit_filter, group_id_filter
from tests.graphsim.conftest import assert_graph_error, seed

# directoryaudit-list.md example 2 (response), shortened
EXAMPLE_2 = {
    "id": "SSGM_b662f17a-4e4d-4e1c-9248-cdec180024b2_MCDC4_88453290",
    "category": "GroupManagement",
    "correlationId": "b662f17a-4e4d-4e1c-9248-cdec180024b2",
    "result": "success",
    "activityDisplayName": "GroupLifecyclePolicies_Get",
    "activityDateTime": "2024-12-27T10:01:19.5796748Z",
    "loggedByService": "Self-service Group Management",
    "operationType": "Update",
    "initiatedBy": {"app": None, "user": {"id": "00000000-0000-0000-0000-000000000000"}},
    "targetResources": [{"id": "00000000-0000-0000-0000-000000000000", "type": "N/A"}],
}
GROUP = {"displayName": "G", "mailNickname": "g", "mailEnabled": False, "securityEnabled": True}


def _entry(n: int, activity: str, service: str = "Core Directory") -> dict[str, object]:
    return {
        "id": f"e{n}",
        "activityDisplayName": activity,
        "loggedByService": service,
        "category": "GroupManagement",
        "activityDateTime": f"2024-12-27T10:0{n}:00.0000000Z",
        "targetResources": [{"id": f"target-{n}", "type": "Group"}],
        "initiatedBy": {"user": {"id": "u"}, "app": None},
    }


async def test_docs_example_2_filter_on_the_initiating_user(http, ctl):
    await seed(ctl, {"directoryAudits": [EXAMPLE_2, _entry(1, "Add member to group")]})
    text = "initiatedBy/user/id eq '00000000-0000-0000-0000-000000000000'"
    body = (await http.get("/auditLogs/directoryAudits", params={"$filter": text})).json()
    assert [e["id"] for e in body["value"]] == [EXAMPLE_2["id"]]


async def test_the_signal_filter_keeps_what_can_change_protection_and_nothing_else(http, ctl):
    relevant = [
        _entry(1, "Add eligible member to role in PIM completed (timebound)", "PIM"),
        _entry(2, "Add member to group"),
        _entry(3, "Add app role assignment grant to user"),
        _entry(4, "Remove app role assignment from service principal"),
        _entry(5, "Update role setting in PIM", "PIM"),
        _entry(6, "Add owner to group"),
    ]
    unrelated = [_entry(7, "Add user"), _entry(8, "Reset password"), _entry(9, "Update user")]
    await seed(ctl, {"directoryAudits": relevant + unrelated})
    text = audit_filter(datetime(2024, 12, 27, 10, tzinfo=UTC), datetime(2024, 12, 27, 11, tzinfo=UTC))
    params = {"$filter": text, "$select": ",".join(AUDIT_SELECT)}
    body = (await http.get("/auditLogs/directoryAudits", params=params)).json()
    assert sorted(e["id"] for e in body["value"]) == sorted(str(e["id"]) for e in relevant)
    assert {key for e in body["value"] for key in e} == set(AUDIT_SELECT)
    assert body["@odata.context"].endswith(f"#auditLogs/directoryAudits({','.join(AUDIT_SELECT)})")
    earlier = audit_filter(datetime(2024, 12, 27, 9, tzinfo=UTC), datetime(2024, 12, 27, 10, tzinfo=UTC))
    assert (await http.get("/auditLogs/directoryAudits", params={"$filter": earlier})).json()["value"] == []


async def test_undocumented_audit_filters_are_refused(http, ctl):
    await seed(ctl, {"directoryAudits": [EXAMPLE_2]})
    for text in [
        "category eq 'GroupManagement'",  # not documented as filterable
        "result eq 'success'",
        "activityDisplayName ne 'Add user'",  # the list page names eq, ge, le, startswith
        "contains(activityDisplayName,'group')",
        "activityDisplayName in ('Add user')",
    ]:
        resp = await http.get("/auditLogs/directoryAudits", params={"$filter": text})
        assert_graph_error(resp, 400, "BadRequest")


async def test_group_delta_filtered_on_ids_tracks_those_groups_only(http, ctl):
    ids = []
    for i in range(3):
        created = await http.post("/groups", json={**GROUP, "mailNickname": f"g{i}"})
        ids.append(created.json()["id"])
    user = str(uuid.UUID(int=7))
    await seed(ctl, {"users": [{"id": user, "displayName": "U", "userPrincipalName": "u@contoso.com"}]})
    # group-delta.md: "$filter= id eq '..' or id eq '..'"
    first = (await http.get("/groups/delta", params={"$filter": group_id_filter(ids[:2])})).json()
    assert sorted(g["id"] for g in first["value"]) == sorted(ids[:2])
    link = first["@odata.deltaLink"]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{user}"}
    assert (await http.post(f"/groups/{ids[2]}/members/$ref", json=ref)).status_code == 204
    assert (await http.get(link)).json()["value"] == []  # the third group is not tracked
    assert (await http.post(f"/groups/{ids[0]}/members/$ref", json=ref)).status_code == 204
    [changed] = (await http.get(link)).json()["value"]
    assert changed["id"] == ids[0] and [m["id"] for m in changed["members@delta"]] == [user]


async def test_group_delta_id_filter_limits(http, ctl):
    many = " or ".join(f"id eq '{uuid.UUID(int=i)}'" for i in range(51))
    assert_graph_error(
        await http.get("/groups/delta", params={"$filter": many}), 400, "Request_UnsupportedQuery"
    )
    one = f"id eq '{uuid.UUID(int=1)}'"
    latest = await http.get("/groups/delta", params={"$filter": one, "$deltatoken": "latest"})
    assert_graph_error(latest, 400, "Request_UnsupportedQuery")  # docs silent: refused (README)

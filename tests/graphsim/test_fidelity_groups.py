"""Documented examples for users and groups, replayed through raw HTTP and the real msgraph-sdk.
Each test names the docs-contrib page its example comes from."""

from __future__ import annotations

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.group import Group
from msgraph.generated.models.reference_create import ReferenceCreate

from graphsim.directory.shapes import security_identifier
from tests.graphsim.conftest import assert_graph_error, assert_subset, seed
from tests.graphsim.doc_examples import AUDIT

# api-reference/v1.0/api/group-post-groups.md, example 2 (owners and members at creation)
OWNER = "26be1845-4119-4801-a799-aea79d09f1a2"
MEMBERS = ["ff7cb387-6688-423c-8188-3da9532a73cc", "69456242-0067-49d3-ba96-9de6f2728e14"]
CREATE_BODY = {
    "description": "Group with designated owner and members",
    "displayName": "Operations group",
    "groupTypes": [],
    "mailEnabled": False,
    "mailNickname": "operations2019",
    "securityEnabled": True,
    "owners@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{OWNER}"],
    "members@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{m}" for m in MEMBERS],
}
CREATED = {
    "deletedDateTime": None,
    "classification": None,
    "description": "Group with designated owner and members",
    "displayName": "Operations group",
    "expirationDateTime": None,
    "groupTypes": [],
    "isAssignableToRole": None,
    "mail": None,
    "mailEnabled": False,
    "mailNickname": "operations2019",
    "membershipRule": None,
    "membershipRuleProcessingState": None,
    "onPremisesDomainName": None,
    "onPremisesLastSyncDateTime": None,
    "onPremisesNetBiosName": None,
    "onPremisesSamAccountName": None,
    "onPremisesSecurityIdentifier": None,
    "onPremisesSyncEnabled": None,
    "preferredDataLocation": None,
    "preferredLanguage": None,
    "proxyAddresses": [],
    "resourceBehaviorOptions": [],
    "resourceProvisioningOptions": [],
    "securityEnabled": True,
    "theme": None,
    "visibility": None,
    "onPremisesProvisioningErrors": [],
}
# api-reference/v1.0/api/user-get.md (response example)
USER = {
    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    "businessPhones": ["+1 425 555 0109"],
    "displayName": "Adele Vance",
    "givenName": "Adele",
    "jobTitle": "Retail Manager",
    "mail": "AdeleV@contoso.com",
    "mobilePhone": "+1 425 555 0109",
    "officeLocation": "18/2111",
    "preferredLanguage": "en-US",
    "surname": "Vance",
    "userPrincipalName": "AdeleV@contoso.com",
}


async def _new_group(http):
    """A bare security group, created over raw HTTP; its JSON."""
    body = {"displayName": "A", "mailNickname": "a", "mailEnabled": False, "securityEnabled": True}
    return (await http.post("/groups", json=body)).json()


def _users(*ids):
    return {
        "users": [
            {"id": i, "displayName": f"User {i[:4]}", "userPrincipalName": f"u{i[:8]}@contoso.com"}
            for i in ids
        ]
    }


def test_security_identifier_matches_documented_examples():
    # group-post-groups.md examples 2 and 3
    assert (
        security_identifier("21d05557-b7b6-418f-86fa-a3118d751be4")
        == "S-1-12-1-567301463-1099937718-295959174-3827004813"
    )
    assert (
        security_identifier("55ea2e8c-757f-4f2d-be9e-53c22e8c6a54")
        == "S-1-12-1-1441410700-1328379263-3260260030-1416268846"
    )


async def test_get_user_by_id_and_upn(http, ctl, sdk):
    await seed(ctl, {"users": [{**USER, "accountEnabled": True}]})
    by_id = await http.get(f"/users/{USER['id']}")
    assert by_id.status_code == 200
    assert {k: v for k, v in by_id.json().items() if k != "@odata.context"} == USER
    by_upn = await sdk.users.by_user_id("adelev@contoso.com").get()
    assert by_upn.id == USER["id"] and by_upn.job_title == "Retail Manager"
    assert_graph_error(await http.get("/users/nobody@contoso.com"), 404, "Request_ResourceNotFound")


async def test_list_users_filter_select_and_paging(http, ctl):
    ids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(5)]
    await seed(ctl, _users(*ids))
    first = (await http.get("/users", params={"$top": "2", "$select": "id"})).json()
    assert first["value"] == [{"id": ids[0]}, {"id": ids[1]}]
    seen = [u["id"] for u in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = (await http.get(link)).json()
        seen += [u["id"] for u in page["value"]]
        link = page.get("@odata.nextLink")
    assert seen == ids
    filtered = await http.get("/users", params={"$filter": f"startswith(userPrincipalName,'u{ids[3][:8]}')"})
    assert [u["id"] for u in filtered.json()["value"]] == [ids[3]]


async def test_create_group_with_owners_and_members(http, ctl):
    await seed(ctl, _users(OWNER, *MEMBERS))
    resp = await http.post("/groups", json=CREATE_BODY)
    assert resp.status_code == 201
    body = resp.json()
    assert body["@odata.context"] == "https://graph.local/v1.0/$metadata#groups/$entity"
    assert_subset(CREATED, body)
    assert body["securityIdentifier"] == security_identifier(body["id"])
    members = (await http.get(f"/groups/{body['id']}/members")).json()["value"]
    assert [(m["@odata.type"], m["id"]) for m in members] == [("#microsoft.graph.user", m) for m in MEMBERS]
    owners = (await http.get(f"/groups/{body['id']}/owners")).json()["value"]
    assert [o["id"] for o in owners] == [OWNER]


async def test_create_group_through_sdk_and_find_by_filter(sdk):
    created = await sdk.groups.post(
        Group(
            display_name="FinReport-SeniorAnalyst-SecureAccess",
            mail_nickname="finreport-senior",
            mail_enabled=False,
            security_enabled=True,
            group_types=[],
            unique_name="pw-finreport",
        )
    )
    assert created.security_identifier.startswith("S-1-12-1-")
    config = RequestConfiguration()
    config.query_parameters = sdk.groups.GroupsRequestBuilderGetQueryParameters(
        filter="mailNickname eq 'FINREPORT-SENIOR'"
    )
    found = await sdk.groups.get(request_configuration=config)
    assert [g.id for g in found.value] == [created.id]
    by_key = await sdk.groups_with_unique_name("pw-finreport").get()
    assert by_key.id == created.id


async def test_create_group_validation(http):
    base = {"displayName": "x", "mailNickname": "ok", "mailEnabled": False, "securityEnabled": True}
    cases = [
        {**base, "mailNickname": "has space"},
        {**base, "mailNickname": "a" * 65},
        {**base, "mailEnabled": True},
        {k: v for k, v in base.items() if k != "securityEnabled"},
        {**base, "groupTypes": ["DynamicMembership"]},
        {**base, "displayName": "d" * 257},
    ]
    for body in cases:
        assert_graph_error(await http.post("/groups", json=body), 400, "Request_BadRequest")
    assert_graph_error(await http.post("/groups", json={**base, "colour": "red"}), 400, "BadRequest")
    assert_graph_error(await http.post("/groups", json={**base, "securityEnabled": "yes"}), 400, "BadRequest")


async def test_upsert_by_unique_name(http):
    # api-reference/v1.0/api/group-upsert.md: 201 when created, 204 when it existed
    body = {
        "description": "Self help community for golf",
        "displayName": "Golf Assist",
        "groupTypes": ["Unified"],
        "mailEnabled": True,
        "mailNickname": "golfassist",
        "securityEnabled": False,
    }
    url = "/groups(uniqueName='uniqueName')"
    missing = await http.patch(url, json=body)
    assert_graph_error(missing, 404, "Request_ResourceNotFound")
    created = await http.patch(url, json=body, headers={"Prefer": "create-if-missing"})
    assert created.status_code == 201
    assert_subset(
        {
            "displayName": "Golf Assist",
            "groupTypes": ["Unified"],
            "mail": "golfassist@contoso.onmicrosoft.com",
            "mailEnabled": True,
            "securityEnabled": False,
            "uniqueName": "uniqueName",
            "visibility": "Public",
        },
        created.json(),
    )
    again = await http.patch(
        url, json={**body, "description": "changed"}, headers={"Prefer": "create-if-missing"}
    )
    assert again.status_code == 204
    got = (await http.get(url)).json()
    assert got["id"] == created.json()["id"] and got["description"] == "changed"


async def test_patch_and_delete_group(http, ctl, sdk):
    # api-reference/v1.0/api/group-update.md (204) and group-delete.md (204)
    group = await _new_group(http)
    await sdk.groups.by_group_id(group["id"]).patch(Group(description="Library Assist"))
    assert (await http.get(f"/groups/{group['id']}")).json()["description"] == "Library Assist"
    assert (await http.delete(f"/groups/{group['id']}")).status_code == 204
    assert_graph_error(await http.get(f"/groups/{group['id']}"), 404, "Request_ResourceNotFound")
    state = (await ctl.get("/state")).json()
    assert [g["id"] for g in state["deletedItems"]] == [group["id"]]


async def test_members_ref_add_duplicate_remove(http, ctl, sdk):
    # api-reference/v1.0/api/group-post-members.md and group-delete-members.md
    await seed(ctl, _users(*MEMBERS))
    group = await _new_group(http)
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{MEMBERS[0]}"}
    assert (await http.post(f"/groups/{group['id']}/members/$ref", json=ref)).status_code == 204
    assert_graph_error(
        await http.post(f"/groups/{group['id']}/members/$ref", json=ref), 400, "Request_BadRequest"
    )
    ghost = {"@odata.id": "https://graph.microsoft.com/v1.0/users/00000000-0000-4000-8000-0000000000aa"}
    assert_graph_error(
        await http.post(f"/groups/{group['id']}/members/$ref", json=ghost), 404, "Request_ResourceNotFound"
    )
    await sdk.groups.by_group_id(group["id"]).members.ref.post(
        ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/users/{MEMBERS[1]}")
    )
    await sdk.groups.by_group_id(group["id"]).members.by_directory_object_id(MEMBERS[0]).ref.delete()
    listed = await sdk.groups.by_group_id(group["id"]).members.get()
    assert [m.id for m in listed.value] == [MEMBERS[1]]
    assert_graph_error(
        await http.delete(f"/groups/{group['id']}/members/{MEMBERS[0]}/$ref"), 404, "Request_ResourceNotFound"
    )


async def test_owners_ref_and_audit_trail(http, ctl):
    # api-reference/v1.0/api/group-post-owners.md
    await seed(ctl, _users(OWNER))
    group = await _new_group(http)
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{OWNER}"}
    assert (await http.post(f"/groups/{group['id']}/owners/$ref", json=ref)).status_code == 204
    assert_graph_error(
        await http.post(f"/groups/{group['id']}/owners/$ref", json=ref), 400, "Request_BadRequest"
    )
    assert (await http.delete(f"/groups/{group['id']}/owners/{OWNER}/$ref")).status_code == 204
    audits = (
        await http.get(
            "/auditLogs/directoryAudits",
            params={"$filter": "loggedByService eq 'Core Directory' and targetResources/any(t:t/id eq "
                    f"'{group['id']}')"},
        )
    ).json()["value"]
    assert [a["activityDisplayName"] for a in audits] == [
        "Remove owner from group",
        "Add owner to group",
        "Add group",
    ]
    assert (
        audits[1]["targetResources"][0]["id"] == OWNER and audits[1]["targetResources"][1]["type"] == "Group"
    )


async def test_directory_audits_filters_and_paging(http, ctl):
    # api-reference/v1.0/api/directoryaudit-list.md example 1 entry, seeded then filtered
    entry = dict(AUDIT)
    await seed(ctl, {"directoryAudits": [entry]})
    for text in [
        "activityDateTime ge 2018-01-01T00:00:00Z and activityDateTime le 2018-02-01T00:00:00Z",
        "targetResources/any(t:t/id eq 'ef7e527d-6c92-4234-8c6d-cf6fdfb57f95')",
        "initiatedBy/user/id eq '728309ae-1a37-4937-9afe-e35d964db09b'",
        "startswith(activityDisplayName,'Add member')",
    ]:
        body = (await http.get("/auditLogs/directoryAudits", params={"$filter": text})).json()
        assert len(body["value"]) == 1, text
        assert_subset(entry, body["value"][0])
    none = await http.get(
        "/auditLogs/directoryAudits", params={"$filter": "activityDateTime ge 2019-01-01T00:00:00Z"}
    )
    assert none.json()["value"] == []


async def test_directory_audits_paging_newest_first(http, ctl):
    entries = [
        {"id": f"e{i}", "activityDateTime": f"2025-01-0{i}T00:00:00Z", "category": "GroupManagement"}
        for i in range(1, 6)
    ]
    await seed(ctl, {"directoryAudits": entries})
    first = (await http.get("/auditLogs/directoryAudits", params={"$top": "2"})).json()
    ids = [e["id"] for e in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = (await http.get(link)).json()
        ids += [e["id"] for e in page["value"]]
        link = page.get("@odata.nextLink")
    assert ids == ["e5", "e4", "e3", "e2", "e1"]


SP = "f4b8c1a2-3d5e-4f60-8a7b-9c0d1e2f3a4b"


async def test_v1_lists_no_service_principal_members_or_owners_but_the_type_cast_does(http, ctl, sdk):
    # group-list-members.md: "Currently service principals are not listed as group members due to
    # staged roll-out of service principals on Graph V1.0 endpoint"; group-list-owners.md says the same
    # of owners. Both pages: "OData cast is also enabled" (example 4 casts to microsoft.graph.user).
    await seed(ctl, {**_users(OWNER), "servicePrincipals": [{"id": SP, "appId": SP, "displayName": "Robot"}]})
    group = await _new_group(http)
    for relation in ("members", "owners"):
        for principal in (OWNER, SP):
            ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{principal}"}
            assert (await http.post(f"/groups/{group['id']}/{relation}/$ref", json=ref)).status_code == 204
        plain = (await http.get(f"/groups/{group['id']}/{relation}")).json()["value"]
        assert [m["id"] for m in plain] == [OWNER]
        cast = await http.get(
            f"/groups/{group['id']}/{relation}/microsoft.graph.servicePrincipal",
            params={"$count": "true", "$select": "id"},
            headers={"ConsistencyLevel": "eventual"},
        )
        assert cast.status_code == 200
        assert cast.json()["@odata.context"].endswith("$metadata#servicePrincipals(id)")
        assert (cast.json()["@odata.count"], [m["id"] for m in cast.json()["value"]]) == (1, [SP])
        users = (await http.get(f"/groups/{group['id']}/{relation}/microsoft.graph.user")).json()["value"]
        assert [(u["@odata.type"], u["id"]) for u in users] == [("#microsoft.graph.user", OWNER)]
    by_sdk = await sdk.groups.by_group_id(group["id"]).owners.graph_service_principal.get()
    assert [s.id for s in by_sdk.value] == [SP]
    assert_graph_error(
        await http.get(f"/groups/{group['id']}/members/microsoft.graph.robot"), 400, "BadRequest"
    )

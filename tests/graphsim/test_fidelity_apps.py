"""Documented examples for service principals and app role assignments, replayed through raw HTTP
and through the real msgraph-sdk. Each test names the docs-contrib page it comes from."""

from __future__ import annotations

import base64
import uuid

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.service_principal import ServicePrincipal

from tests.graphsim.conftest import assert_graph_error, assert_subset, seed

# api-reference/v1.0/api/serviceprincipal-list.md (response example)
LISTED_SP = {
    "id": "59e617e5-e447-4adc-8b88-00af644d7c92",
    "deletedDateTime": None,
    "accountEnabled": True,
    "appDisplayName": "My App",
    "appId": "65415bb1-9267-4313-bbf5-ae259732ee12",
    "appOwnerOrganizationId": "1bc1c026-2f7b-48a5-98da-afa2fd8bc7bc",
    "appRoleAssignmentRequired": False,
    "displayName": "foo",
    "homepage": None,
    "logoutUrl": None,
    "publisherName": "Contoso",
    "replyUrls": [],
    "servicePrincipalNames": ["f1bd758f-4a1a-4b71-aa20-a248a22a8928"],
    "tags": [],
    "addIns": [],
    "appRoles": [],
    "info": {
        "termsOfServiceUrl": None,
        "supportUrl": None,
        "privacyStatementUrl": None,
        "marketingUrl": None,
        "logoUrl": None,
    },
    "keyCredentials": [],
    "oauth2PermissionScopes": [],
    "passwordCredentials": [],
}
# api-reference/v1.0/api/serviceprincipal-post-approleassignedto.md
RESOURCE_SP = "9028d19c-26a9-4809-8e3f-20ff73e2d75e"
PRINCIPAL_GROUP = "33ad69f9-da99-4bed-acd0-3f24235cb296"
APP_ROLE = "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7"
ASSIGNMENT_SEED = {
    "servicePrincipals": [
        {
            "id": RESOURCE_SP,
            "appId": "1c48f923-4fbb-4d37-b772-4d577eefec9e",
            "displayName": "Fabrikam App",
            "appRoles": [
                {
                    "id": APP_ROLE,
                    "allowedMemberTypes": ["User"],
                    "displayName": "Reader",
                    "isEnabled": True,
                    "value": "Reader",
                }
            ],
        }
    ],
    "groups": [{"id": PRINCIPAL_GROUP, "displayName": "Parents of Contoso", "mailNickname": "parents"}],
}
ASSIGNMENT_BODY = {"principalId": PRINCIPAL_GROUP, "resourceId": RESOURCE_SP, "appRoleId": APP_ROLE}


async def test_list_service_principals_raw_and_sdk(http, ctl, sdk):
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    resp = await http.get("/servicePrincipals")
    assert resp.status_code == 200
    assert resp.json()["@odata.context"].endswith("/$metadata#servicePrincipals")
    assert_subset(LISTED_SP, resp.json()["value"][0])
    listed = await sdk.service_principals.get()
    assert [sp.app_id for sp in listed.value] == [LISTED_SP["appId"]]
    assert listed.value[0].app_owner_organization_id == uuid.UUID(LISTED_SP["appOwnerOrganizationId"])


async def test_get_by_app_id_alternate_key(http, ctl, sdk):
    # api-reference/v1.0/api/serviceprincipal-get.md: GET /servicePrincipals(appId='{appId}')
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    resp = await http.get(f"/servicePrincipals(appId='{LISTED_SP['appId']}')")
    assert resp.status_code == 200 and resp.json()["id"] == LISTED_SP["id"]
    got = await sdk.service_principals_with_app_id(LISTED_SP["appId"]).get()
    assert got.id == LISTED_SP["id"]


async def test_tag_filter_with_select(http, ctl):
    tagged = {**LISTED_SP, "id": str(uuid.uuid4()), "tags": ["PrivateAccessNonWebApplication", "HVA"]}
    await seed(ctl, {"servicePrincipals": [LISTED_SP, tagged]})
    resp = await http.get(
        "/servicePrincipals",
        params={"$filter": "tags/any(t:t eq 'HVA')", "$select": "id,appId,displayName,tags"},
    )
    body = resp.json()
    assert body["@odata.context"].endswith("#servicePrincipals(id,appId,displayName,tags)")
    assert body["value"] == [{k: tagged[k] for k in ("id", "appId", "displayName", "tags")}]


async def test_count_requires_consistency_level(http, ctl, sdk):
    # api-reference/v1.0/api/serviceprincipal-list.md example "Get only a count": text/plain number
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    assert_graph_error(await http.get("/servicePrincipals/$count"), 400, "Request_BadRequest")
    resp = await http.get("/servicePrincipals/$count", headers={"ConsistencyLevel": "eventual"})
    assert (
        resp.status_code == 200 and resp.text == "1" and resp.headers["content-type"].startswith("text/plain")
    )
    config = RequestConfiguration()
    config.headers.add("ConsistencyLevel", "eventual")
    assert await sdk.service_principals.count.get(request_configuration=config) == 1


async def test_dollar_count_true_without_header_is_ignored(http, ctl):
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    plain = await http.get("/servicePrincipals", params={"$count": "true"})
    assert "@odata.count" not in plain.json()
    counted = await http.get(
        "/servicePrincipals", params={"$count": "true"}, headers={"ConsistencyLevel": "eventual"}
    )
    assert counted.json()["@odata.count"] == 1


async def test_advanced_filter_needs_header_and_count(http, ctl):
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    query = {"$filter": "appRoleAssignmentRequired eq false"}
    assert_graph_error(await http.get("/servicePrincipals", params=query), 400, "Request_UnsupportedQuery")
    ne = {"$filter": "displayName ne 'x'"}
    err = assert_graph_error(await http.get("/servicePrincipals", params=ne), 400, "Request_UnsupportedQuery")
    assert "Operator 'ne'" in err["message"]
    ok = await http.get(
        "/servicePrincipals", params={**query, "$count": "true"}, headers={"ConsistencyLevel": "eventual"}
    )
    assert ok.json()["@odata.count"] == 1


async def test_patch_service_principal_returns_204(http, ctl, sdk):
    # api-reference/v1.0/api/serviceprincipal-update.md: {"appRoleAssignmentRequired": true} -> 204
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    resp = await http.patch(f"/servicePrincipals/{LISTED_SP['id']}", json={"appRoleAssignmentRequired": True})
    assert resp.status_code == 204 and resp.content == b""
    await sdk.service_principals.by_service_principal_id(LISTED_SP["id"]).patch(
        ServicePrincipal(tags=["HideApp", "HighValue"])
    )
    state = (await ctl.get("/state")).json()["servicePrincipals"][0]
    assert state["appRoleAssignmentRequired"] is True and state["tags"] == ["HideApp", "HighValue"]


async def test_custom_security_attributes_write_and_filter(http, ctl):
    await seed(ctl, {"servicePrincipals": [LISTED_SP]})
    patch = {
        "customSecurityAttributes": {
            "Engineering": {
                "@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue",
                "Project@odata.type": "#Collection(String)",
                "Project": ["Baker", "Cascade"],
            }
        }
    }
    assert (await http.patch(f"/servicePrincipals/{LISTED_SP['id']}", json=patch)).status_code == 204
    plain = (await http.get(f"/servicePrincipals/{LISTED_SP['id']}")).json()
    assert "customSecurityAttributes" not in plain
    selected = (
        await http.get(
            f"/servicePrincipals/{LISTED_SP['id']}", params={"$select": "id,customSecurityAttributes"}
        )
    ).json()
    assert selected["customSecurityAttributes"] == {
        "Engineering": {
            "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
            "Project": ["Baker", "Cascade"],
        }
    }


async def test_post_app_role_assignment_documented_example(http, ctl):
    await seed(ctl, ASSIGNMENT_SEED)
    resp = await http.post(f"/servicePrincipals/{RESOURCE_SP}/appRoleAssignedTo", json=ASSIGNMENT_BODY)
    assert resp.status_code == 201
    body = resp.json()
    assert body["@odata.context"] == (
        f"https://graph.local/v1.0/$metadata#servicePrincipals('{RESOURCE_SP}')/appRoleAssignedTo/$entity"
    )
    assert_subset(
        {
            "deletedDateTime": None,
            "appRoleId": APP_ROLE,
            "principalDisplayName": "Parents of Contoso",
            "principalId": PRINCIPAL_GROUP,
            "principalType": "Group",
            "resourceDisplayName": "Fabrikam App",
            "resourceId": RESOURCE_SP,
        },
        body,
    )
    raw = base64.urlsafe_b64decode(body["id"] + "=")
    assert len(body["id"]) == 43 and str(uuid.UUID(bytes_le=raw[:16])) == PRINCIPAL_GROUP
    dup = await http.post(f"/servicePrincipals/{RESOURCE_SP}/appRoleAssignedTo", json=ASSIGNMENT_BODY)
    err = assert_graph_error(dup, 400, "Request_BadRequest")
    assert err["message"] == "Permission being assigned already exists on the object"


async def test_app_role_assignment_through_sdk_list_and_delete(ctl, sdk):
    await seed(ctl, ASSIGNMENT_SEED)
    builder = sdk.service_principals.by_service_principal_id(RESOURCE_SP).app_role_assigned_to
    created = await builder.post(
        AppRoleAssignment(
            principal_id=uuid.UUID(PRINCIPAL_GROUP),
            resource_id=uuid.UUID(RESOURCE_SP),
            app_role_id=uuid.UUID(APP_ROLE),
        )
    )
    assert created.principal_type == "Group"
    config = RequestConfiguration()
    config.query_parameters = builder.AppRoleAssignedToRequestBuilderGetQueryParameters(
        filter=f"principalId eq '{PRINCIPAL_GROUP}'"
    )
    listed = await builder.get(request_configuration=config)
    assert [a.id for a in listed.value] == [created.id]
    await builder.by_app_role_assignment_id(created.id).delete()
    assert (await builder.get()).value == []


async def test_app_role_must_exist_or_be_default(http, ctl):
    await seed(ctl, ASSIGNMENT_SEED)
    wrong = {**ASSIGNMENT_BODY, "appRoleId": "00000000-0000-0000-0000-000000000000"}
    assert_graph_error(
        await http.post(f"/servicePrincipals/{RESOURCE_SP}/appRoleAssignedTo", json=wrong),
        400,
        "Request_BadRequest",
    )
    no_roles = {"id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "displayName": "Plain"}
    await seed(ctl, {"servicePrincipals": [no_roles]})
    default = {**wrong, "resourceId": no_roles["id"]}
    ok = await http.post(f"/servicePrincipals/{no_roles['id']}/appRoleAssignedTo", json=default)
    assert ok.status_code == 201 and ok.json()["appRoleId"] == "00000000-0000-0000-0000-000000000000"


async def test_default_access_only_when_the_app_declares_no_app_roles(http, ctl):
    # approleassignment.md, appRoleId: the default id "if the resource application has not declared any
    # app roles"; an app whose only roles are for applications, or disabled, has declared some.
    await seed(ctl, ASSIGNMENT_SEED)
    for roles in (
        [{"id": str(uuid.uuid4()), "allowedMemberTypes": ["Application"], "isEnabled": True, "value": "x"}],
        [{"id": str(uuid.uuid4()), "allowedMemberTypes": ["User"], "isEnabled": False, "value": "y"}],
    ):
        sp = {"id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "displayName": "Api", "appRoles": roles}
        await seed(ctl, {"servicePrincipals": [sp]})
        default = "00000000-0000-0000-0000-000000000000"
        body = {**ASSIGNMENT_BODY, "resourceId": sp["id"], "appRoleId": default}
        refused = await http.post(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", json=body)
        assert_graph_error(refused, 400, "Request_BadRequest")
        assert "Permission being assigned was not found" in refused.json()["error"]["message"]


async def test_assignments_are_audited(http, ctl):
    await seed(ctl, ASSIGNMENT_SEED)
    await http.post(f"/servicePrincipals/{RESOURCE_SP}/appRoleAssignedTo", json=ASSIGNMENT_BODY)
    audits = (
        await http.get(
            "/auditLogs/directoryAudits",
            params={"$filter": f"targetResources/any(t:t/id eq '{PRINCIPAL_GROUP}')"},
        )
    ).json()["value"]
    assert [a["activityDisplayName"] for a in audits] == ["Add app role assignment to group"]
    assert audits[0]["category"] == "GroupManagement" and audits[0]["loggedByService"] == "Core Directory"

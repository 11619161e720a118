"""Microsoft Entra objects: the Graph permissions granted are the permission manifest's, through the
Microsoft Graph Bicep extension, and the operator API's registration matches what the API validates."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared.api.config import DEFAULT_OPERATOR_ROLE, DEFAULT_READER_ROLE
from shared.permissions.manifest import MANIFEST_PATH, MICROSOFT_GRAPH_APP_ID, Need, load_manifest

from .bicep import INFRA, Opaque, Scope, body, condition, module_params, module_path, parse, resources
from .deployed import MAIN, app_settings, main_scope, read_all

GRAPH = INFRA / "app" / "graph.bicep"
OPTIONAL = {"grantCustomSecurityAttributeRead": "CustomSecAttributeAssignment.Read.All",
            "grantProtectedGroups": "RoleManagement.ReadWrite.Directory"}


def _granted(**params: Any) -> set[str]:
    return {p["id"].lower() for p in module_params(main_scope(**params), "graph")["permissions"]}


def test_the_extension_is_declared_where_graph_objects_are_and_pinned() -> None:
    assert "microsoftGraphV1" in parse(GRAPH)["extensions"]
    assert not parse(MAIN).get("extensions"), "main.bicep must deploy without the Graph extension"
    config = json.loads((INFRA / "bicepconfig.json").read_text())
    assert re.fullmatch(r"br:mcr\.microsoft\.com/bicep/extensions/microsoftgraph/v1\.0:\d+\.\d+\.\d+",
                        config["extensions"]["microsoftGraphV1"])


def test_graph_objects_are_skipped_with_one_parameter() -> None:
    graph = parse(MAIN)["modules"]["graph"]
    assert condition(graph) == "deployGraphResources"
    assert module_path(main_scope(), "graph") == GRAPH
    assert parse(MAIN)["parameters"]["deployGraphResources"]["default"] is True


def test_main_reads_the_permission_manifest_itself() -> None:
    loaded = parse(MAIN)["variables"]["manifest"]["value"]["function"]
    assert loaded["type"] == "load_json_content"
    assert (MAIN.parent / loaded["parameters"]["file_path"]).resolve() == MANIFEST_PATH.resolve()


@pytest.mark.parametrize("attributes", [False, True])
@pytest.mark.parametrize("protected_groups", [False, True])
def test_granted_app_roles_are_the_manifest_entries_needed(attributes: bool, protected_groups: bool) -> None:
    manifest = load_manifest()
    expected = {p.app_role_id for p in manifest.always()}
    flags = {"grantCustomSecurityAttributeRead": attributes, "grantProtectedGroups": protected_groups}
    expected |= {manifest.by_name(OPTIONAL[flag]).app_role_id for flag, on in flags.items() if on}
    assert _granted(**flags) == expected


def test_the_optional_grants_are_exactly_the_manifest_entries_needed_with_a_setting() -> None:
    manifest = load_manifest()
    assert set(OPTIONAL.values()) == {p.name for p in manifest.permissions if p.need is Need.SETTING}
    everything = _granted(grantCustomSecurityAttributeRead=True, grantProtectedGroups=True)
    assert everything == {p.app_role_id for p in manifest.permissions}


def test_grants_are_app_role_assignments_of_microsoft_graph_to_the_identity() -> None:
    passed = module_params(main_scope(), "graph")
    assert passed["graphAppId"] == load_manifest().resource_app_id == MICROSOFT_GRAPH_APP_ID
    assert passed["principalId"] == Opaque("identity.outputs.principalId")
    (graph_sp,) = [r for r in resources(GRAPH, "Microsoft.Graph/servicePrincipals").values() if r["existing"]]
    assert body(graph_sp) == {"appId": "graphAppId"}
    (grants,) = resources(GRAPH, "Microsoft.Graph/appRoleAssignedTo").values()
    assert grants["api_version"] == "v1.0"
    assert grants["config"]["loop_type"]["detail"] == {"item_name": "permission", "array_name": "permissions"}
    scope = Scope(GRAPH, {"permissions": [], "principalId": Opaque("principalId")})
    config = body(grants)
    assert scope.eval(config["principalId"]) == Opaque("principalId")
    assert scope.eval(config["resourceId"]) == Opaque("graph.id")
    assert config["appRoleId"]["operator"] == {"type": "index_accessor",
                                               "operands": {"operand_1": "permission", "operand_2": "id"}}


def _operator_api() -> dict[str, Any]:
    (app,) = resources(GRAPH, "Microsoft.Graph/applications").values()
    return body(app)


def test_the_operator_api_registration_defines_the_roles_the_api_checks() -> None:
    app = _operator_api()
    scope = Scope(GRAPH, module_params(main_scope(), "graph"))
    roles = [scope.eval(role) for role in app["appRoles"]]
    assert {r["value"] for r in roles} == {DEFAULT_READER_ROLE, DEFAULT_OPERATOR_ROLE}
    assert all(r["allowedMemberTypes"] == ["User"] and r["isEnabled"] is True for r in roles)
    ids = [role["id"]["function"] for role in app["appRoles"]]
    assert [i["type"] for i in ids] == ["guid", "guid"]  # stable across deployments, one per role
    assert ids[0]["parameters"] != ids[1]["parameters"]
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["api"]["requestedAccessTokenVersion"] == 2
    (scope_,) = app["api"]["oauth2PermissionScopes"]  # lets a client ask for a user's token
    assert (scope_["value"], scope_["type"], scope_["isEnabled"]) == ("user_impersonation", "User", True)
    assert app["identifierUris"] == ["identifierUri"]
    uri = main_scope().lookup("identifierUri").path
    assert uri.startswith("api://${tenant().tenantId}/")  # an Entra-accepted form: api://<tenantId>/<string>


def test_only_assigned_people_get_operator_api_tokens() -> None:
    (principal,) = [r for r in resources(GRAPH, "Microsoft.Graph/servicePrincipals").values()
                    if not r["existing"]]
    assert body(principal)["appRoleAssignmentRequired"] is True


def test_the_api_settings_are_wired_to_the_registration() -> None:
    settings = app_settings()
    assert settings["PIMWARDEN_API_READER_ROLE"] == DEFAULT_READER_ROLE
    assert settings["PIMWARDEN_API_OPERATOR_ROLE"] == DEFAULT_OPERATOR_ROLE
    audience = main_scope().lookup("apiAudience").path
    assert audience == "${identifierUri},${graph.outputs.apiAppId}"
    issuer = module_params(main_scope(), "functionApp")["apiIssuer"].path
    assert issuer.endswith("${tenant().tenantId}/v2.0")  # the issuer of v2.0 access tokens
    tokens = read_all(settings)[2].tokens
    assert tokens.configured and len(tokens.audiences) == 2


def test_without_graph_objects_the_operator_api_stays_closed_unless_an_audience_is_given() -> None:
    closed = read_all(app_settings(deployGraphResources=False))[2].tokens
    assert closed.audiences == () and not closed.configured
    own = read_all(app_settings(deployGraphResources=False, operatorApiAudience="api://x,y"))[2].tokens
    assert own.audiences == ("api://x", "y") and own.configured

"""Azure resources as infra/ declares them: Flex Consumption, locked-down storage, Key Vault in RBAC
mode, Entra-only telemetry, and role assignments that are exactly the built-in roles named."""

from __future__ import annotations

from typing import Any

from .bicep import INFRA, Scope, body, condition, module_params, module_path, parse, resources
from .deployed import FUNCTION, MAIN, main_scope

APP = INFRA / "app"
# Azure built-in role ids (learn.microsoft.com "Azure built-in roles", Storage / Security / Monitor).
BUILT_IN_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
ROLE_TYPE = "Microsoft.Authorization/roleAssignments"


def _only(path: Any, type_: str) -> dict[str, Any]:
    (declaration,) = resources(path, type_).values()
    return body(declaration)


def _decorators(path: Any, param: str) -> dict[str, Any]:
    return {d["type"]: d["argument"] for d in parse(path)["parameters"][param]["decorators"]}


def test_the_plan_is_flex_consumption_and_the_site_linux_functions() -> None:
    plan = _only(FUNCTION, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan["properties"]["reserved"] is True
    site = _only(FUNCTION, "Microsoft.Web/sites")
    assert site["kind"] == "functionapp,linux"
    assert site["properties"]["httpsOnly"] is True


def test_function_app_config_runs_python_311_from_the_identity_reached_container() -> None:
    config = _only(FUNCTION, "Microsoft.Web/sites")["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer" and storage["value"] == "deploymentContainerUrl"
    assert storage["authentication"] == {"type": "UserAssignedIdentity",
                                         "userAssignedIdentityResourceId": "identityResourceId"}
    assert config["scaleAndConcurrency"] == {"instanceMemoryMB": "instanceMemoryMB",
                                             "maximumInstanceCount": "maximumInstanceCount"}


def test_instance_memory_and_scale_are_parameters_within_flex_limits() -> None:
    for path in (MAIN, FUNCTION):
        assert _decorators(path, "instanceMemoryMB")["allowed"] == [512, 2048, 4096]
        limits = _decorators(path, "maximumInstanceCount")
        assert (limits["min_value"], limits["max_value"]) == (40, 1000)
    passed = module_params(main_scope(), "functionApp")
    assert (passed["instanceMemoryMB"], passed["maximumInstanceCount"]) == (2048, 40)


def test_the_site_runs_as_the_user_assigned_identity_only() -> None:
    identity = _only(FUNCTION, "Microsoft.Web/sites")["identity"]
    assert identity == {"type": "UserAssigned", "userAssignedIdentities": {"'${identityResourceId}'": {}}}


def test_storage_accepts_entra_identities_only() -> None:
    account = _only(APP / "storage.bicep", "Microsoft.Storage/storageAccounts")["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["supportsHttpsTrafficOnly"] is True
    container = _only(APP / "storage.bicep", "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container["properties"]["publicAccess"] == "None"


def test_key_vault_uses_rbac_and_soft_delete() -> None:
    vault = _only(APP / "keyvault.bicep", "Microsoft.KeyVault/vaults")["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert vault["enabledForTemplateDeployment"] is False


def test_telemetry_accepts_entra_tokens_only() -> None:
    insights = _only(APP / "monitoring.bicep", "Microsoft.Insights/components")["properties"]
    assert insights["DisableLocalAuth"] is True
    assert insights["WorkspaceResourceId"] == {
        "operator": {"type": "property_accessor", "operands": {"operand_1": "workspace", "operand_2": "id"}}}
    workspace = _only(APP / "monitoring.bicep", "Microsoft.OperationalInsights/workspaces")["properties"]
    assert workspace["features"]["disableLocalAuth"] is True


def _assignments() -> set[tuple[str, str, str, str, bool]]:
    """(file, scope symbol, role id, principal parameter, conditional) of every role assignment."""
    found = set()
    for path in sorted(APP.glob("*.bicep")):
        scope = Scope(path)
        for declaration in resources(path, ROLE_TYPE).values():
            config = body(declaration)
            role = config["properties"]["roleDefinitionId"]["function"]
            assert role["type"] == "subscription_resource_id"
            assert role["parameters"]["resource_type"] == "Microsoft.Authorization/roleDefinitions"
            role_id = scope.eval(role["parameters"]["resource_name_1"])
            principal = config["properties"]["principalId"]
            assert principal in parse(path)["parameters"], "a role goes to a principal passed in"
            found.add((path.name, config["scope"], role_id, principal, condition(declaration) is not None))
    return found


def test_role_assignments_are_exactly_the_named_built_in_roles() -> None:
    roles = BUILT_IN_ROLES
    assert _assignments() == {
        ("storage.bicep", "account", roles["Storage Blob Data Owner"], "principalId", False),
        ("storage.bicep", "account", roles["Storage Queue Data Contributor"], "principalId", False),
        ("storage.bicep", "account", roles["Storage Table Data Contributor"], "principalId", False),
        ("keyvault.bicep", "vault", roles["Key Vault Secrets User"], "principalId", False),
        ("keyvault.bicep", "vault", roles["Key Vault Secrets Officer"], "secretsOfficerPrincipalId", True),
        ("monitoring.bicep", "insights", roles["Monitoring Metrics Publisher"], "principalId", False),
    }


def test_role_variables_are_named_for_their_built_in_role() -> None:
    for path in sorted(APP.glob("*.bicep")):
        names = Scope(path).lookup("roles") if "roles" in parse(path).get("variables", {}) else {}
        for key, role_id in names.items():
            title = "".join(" " + c if c.isupper() else c for c in key).strip().title()
            expected = {k.replace(" ", "").lower(): v for k, v in BUILT_IN_ROLES.items()}
            assert expected[title.replace(" ", "").lower()] == role_id, (path.name, key)


def test_every_role_goes_to_the_one_identity() -> None:
    scope = main_scope()
    for module in ("storage", "keyVault", "monitoring", "graph"):
        assert module_params(scope, module)["principalId"].path == "identity.outputs.principalId", module
    assert module_path(scope, "identity") == APP / "identity.bicep"
    assert list(resources(APP / "identity.bicep", "Microsoft.ManagedIdentity/userAssignedIdentities")) == [
        "identity"]

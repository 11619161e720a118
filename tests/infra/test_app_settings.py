"""The Function App's settings as infra/ deploys them: known to the app, complete, valid, keyless.

Checked on the parsed templates (pycep) without Azure; `az bicep build` / `azd provision --preview`
is the check where the Bicep CLI exists (docs/deploy.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from shared.api.config import ApiConfig
from shared.compliance.service import ComplianceConfig
from shared.engine.config import EngineConfig
from shared.settings import CredentialKind, Settings
from tests.functions.hostcheck import SETTING_RE, find_app, index, load_module

from .bicep import ROOT, bicep_files, body, module_params, parse, resources
from .deployed import FUNCTION, SAMPLES, app_settings, main_scope, names_the_app_reads, read_all

# Read by the Functions host, not by PIM Warden's code (learn.microsoft.com: "App settings reference
# for Azure Functions" and "identity-based connections").
HOST_SETTINGS = {
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    # Read by the Python worker: it configures the Azure Monitor OpenTelemetry distro (Functions
    # "Use OpenTelemetry with Azure Functions"; azure-functions-python-worker).
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
    "PYTHON_ENABLE_OPENTELEMETRY",
}
# "Flex Consumption plan deprecations", App settings reference for Azure Functions (2025-12).
FLEX_DEPRECATED_SETTINGS = {
    "ENABLE_ORYX_BUILD", "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION", "FUNCTIONS_MAX_HTTP_CONCURRENCY", "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED", "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTOVERVNET", "WEBSITE_CONTENTSHARE",
    "WEBSITE_DNS_SERVER", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT", "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_SKIP_CONTENTSHARE_VALIDATION", "WEBSITE_VNET_ROUTE_ALL",
}
FLEX_DEPRECATED_PROPERTIES = {
    "alwaysOn", "containerSize", "dnsConfiguration", "ftpsState", "isReserved", "IsXenon", "javaVersion",
    "LinuxFxVersion", "linuxFxVersion", "netFrameworkVersion", "powerShellVersion", "functionAppScaleLimit",
    "preWarmedInstanceCount", "use32BitWorkerProcess", "vnetBackupRestoreEnabled", "vnetContentShareEnabled",
    "vnetImagePullEnabled", "vnetRouteAllEnabled", "windowsFxVersion",
}
VARIANTS = [{}, {"deployGraphResources": False}, {"privateAccessApps": True},
            {"grantCustomSecurityAttributeRead": True, "highValueAttribute": "Applications/Tier=HighValue"}]


def _bindings() -> list[dict[str, Any]]:
    return [b for f in index(find_app(load_module(ROOT))) for b in f.bindings]


def _connections() -> set[str]:
    return {b["connection"] for b in _bindings() if b.get("connection")}


def _binding_settings() -> set[str]:
    found: set[str] = set()
    for binding in _bindings():
        for value in binding.values():
            if isinstance(value, str):
                found |= set(SETTING_RE.findall(value))
    return found


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bicep_file_parses(path: Path) -> None:
    assert parse(path).get("resources") or parse(path).get("modules")


def test_the_templates_are_the_expected_files() -> None:
    names = {str(p.relative_to(ROOT)) for p in bicep_files()}
    modules = ("identity", "storage", "keyvault", "monitoring", "alerts", "function", "graph")
    assert names == {"infra/main.bicep"} | {f"infra/app/{n}.bicep" for n in modules}


def test_every_setting_deployed_is_one_the_app_or_the_host_reads() -> None:
    known = names_the_app_reads() | HOST_SETTINGS | {f"{c}__credential" for c in _connections()}
    unknown = set(app_settings()) - known
    assert not unknown, f"settings nothing reads (a typo or a renamed setting?): {sorted(unknown)}"


@pytest.mark.parametrize("params", VARIANTS, ids=str)
def test_the_deployed_settings_are_valid_for_every_reader(params: dict[str, Any]) -> None:
    settings, engine, api, compliance = read_all(app_settings(**params))
    assert isinstance(settings, Settings) and isinstance(engine, EngineConfig)
    assert isinstance(api, ApiConfig) and isinstance(compliance, ComplianceConfig)
    assert settings.credential is CredentialKind.MANAGED_IDENTITY
    assert not settings.storage.uses_connection_string
    assert settings.storage_client_id() == SAMPLES["identityClientId"]
    assert engine.own_service_principals == {SAMPLES["identityPrincipalId"]}
    assert compliance.warden_principal_ids == {SAMPLES["identityPrincipalId"]}


def test_what_the_app_needs_in_azure_is_set() -> None:
    settings = app_settings()
    secrets = {n for n in names_the_app_reads() if n.endswith("_SECRETS")}
    queue_connections = {b["connection"] for b in _bindings() if b["type"] == "queueTrigger"}
    required = (
        _binding_settings()  # the timer schedules (%SETTING%) the bindings read
        | {f"{c}__{part}" for c in _connections() for part in ("credential", "clientId")}
        | {f"{c}__queueServiceUri" for c in queue_connections}
        | {"PimWardenStorage__tableServiceUri", "PIMWARDEN_IDENTITY_CLIENT_ID",
           "PIMWARDEN_SERVICE_PRINCIPAL_ID", "PIMWARDEN_API_TENANT_ID", "PIMWARDEN_API_AUDIENCE"}
        | HOST_SETTINGS | secrets
    )
    assert len(secrets) == 3 and {"PIMWARDEN_ENFORCE_SCHEDULE", "PIMWARDEN_COLLECT_SCHEDULE"} <= required
    missing = {name for name in required if not settings.get(name)}
    assert not missing, f"needed in Azure but not set: {sorted(missing)}"


def test_schedules_deployed_are_the_documented_defaults() -> None:
    settings = app_settings()
    defaults = read_all({"PimWardenStorage__tableServiceUri": SAMPLES["tableServiceUri"]})
    assert settings["PIMWARDEN_ENFORCE_SCHEDULE"] == defaults[0].enforce_schedule
    assert settings["PIMWARDEN_FULL_AUDIT_SCHEDULE"] == defaults[1].full_audit_schedule
    assert settings["PIMWARDEN_COLLECT_SCHEDULE"] == defaults[3].collect_schedule
    assert settings["PIMWARDEN_RETENTION_SCHEDULE"] == defaults[3].retention_schedule


def test_identity_connections_name_the_credential_and_the_client_id() -> None:
    settings = app_settings()
    prefixes = {name.split("__")[0] for name in settings if "__" in name}
    assert prefixes == {"AzureWebJobsStorage", "PimWardenStorage"}
    for prefix in prefixes:
        assert prefix not in settings, f"{prefix} would be a connection string"
        assert settings[f"{prefix}__credential"] == "managedidentity"
        assert settings[f"{prefix}__clientId"] == SAMPLES["identityClientId"]
        uris = [n for n in settings if n.startswith(f"{prefix}__") and n.endswith("ServiceUri")]
        assert uris and all(settings[n].startswith("https://") for n in uris)


def test_one_identity_is_used_for_everything() -> None:
    settings = app_settings()
    client_id, principal_id = SAMPLES["identityClientId"], SAMPLES["identityPrincipalId"]
    assert settings["PIMWARDEN_IDENTITY_CLIENT_ID"] == client_id
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == f"ClientId={client_id};Authorization=AAD"
    assert settings["PIMWARDEN_SERVICE_PRINCIPAL_ID"] == principal_id
    passed = module_params(main_scope(), "functionApp")
    assert {k: passed[k].path for k in ("identityClientId", "identityPrincipalId", "identityResourceId")} == {
        "identityClientId": "identity.outputs.clientId",
        "identityPrincipalId": "identity.outputs.principalId",
        "identityResourceId": "identity.outputs.resourceId",
    }


def test_webhook_secrets_are_key_vault_references_resolved_with_the_identity() -> None:
    settings = app_settings()
    secret_settings = sorted(n for n in names_the_app_reads() if n.endswith("_SECRETS"))
    names = main_scope().lookup("webhookSecretNames")
    for setting in secret_settings:
        source = setting.removeprefix("PIMWARDEN_TICKETS_").removesuffix("_SECRETS").lower()
        assert settings[setting] == (
            f"@Microsoft.KeyVault(SecretUri={SAMPLES['keyVaultUri']}secrets/{names[source]}/)"
        )
    references = {n for n, v in settings.items() if v.startswith("@Microsoft.KeyVault(")}
    assert references == set(secret_settings)
    site = body(resources(FUNCTION, "Microsoft.Web/sites")["site"])
    assert site["properties"]["keyVaultReferenceIdentity"] == "identityResourceId"


def _walk(node: Any) -> list[Any]:
    """Every key, string and function name in a parsed document."""
    found: list[Any] = []
    if isinstance(node, dict):
        if "function" in node:
            found.append(("function", node["function"]["type"]))
        for key, value in node.items():
            found += [key, *_walk(value)]
    elif isinstance(node, list):
        for item in node:
            found += _walk(item)
    elif isinstance(node, str):
        found.append(node)
    return found


# listKeys() and the parts of a storage connection string (key or SAS) or an ingestion key.
_KEY_MARKERS = re.compile(r"listkeys|list_keys|accountkey|sharedaccesssignature|defaultendpointsprotocol|"
                          r"instrumentationkey=", re.IGNORECASE)


def _key_material(doc: dict[str, Any]) -> list[str]:
    return [str(item) for item in _walk(doc) if _KEY_MARKERS.search(str(item))]


def test_the_key_detector_finds_list_keys_and_connection_strings() -> None:
    text = ("resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = { name: 'x' }\n"
            "var c = 'DefaultEndpointsProtocol=https;AccountName=x;"
            "AccountKey=${st.listKeys().keys[0].value}'\n")
    assert _key_material(BicepParser().parse(text=text))


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_storage_key_or_connection_string_anywhere(path: Path) -> None:
    assert _key_material(parse(path)) == []


def test_no_setting_or_site_property_flex_consumption_deprecates() -> None:
    assert set(app_settings()) & FLEX_DEPRECATED_SETTINGS == set()
    site = body(resources(FUNCTION, "Microsoft.Web/sites")["site"])
    keys = {k for k in _walk(site["properties"]) if isinstance(k, str)}
    assert keys & FLEX_DEPRECATED_PROPERTIES == set()

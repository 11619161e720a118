"""The app settings infra/ gives the Function App, as plain strings, and the setting names the app reads.

Values Azure computes at deployment (the identity's ids, storage endpoints, the vault URI, ...) are
replaced by realistic samples in the form Azure returns them; every other value is evaluated from
the templates (parameter defaults, variables, the ternaries), so the settings are the deployed ones.
"""

from __future__ import annotations

import contextlib
from typing import Any

from shared.api.config import ApiConfig
from shared.compliance.service import ComplianceConfig
from shared.engine.config import EngineConfig
from shared.settings import Settings, SettingsError

from .bicep import INFRA, Opaque, Scope, body, module_params, module_path, resources

MAIN = INFRA / "main.bicep"
FUNCTION = INFRA / "app" / "function.bicep"
TENANT = "33333333-3333-4333-8333-333333333333"
# What Azure returns for the values only a deployment knows (parameters of app/function.bicep).
SAMPLES: dict[str, str] = {
    "name": "func-pimwarden-abc",
    "planName": "plan-abc",
    "identityResourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-pimwarden-abc",
    "identityClientId": "11111111-1111-4111-8111-111111111111",
    "identityPrincipalId": "22222222-2222-4222-8222-222222222222",
    "blobServiceUri": "https://stabc.blob.core.windows.net",
    "queueServiceUri": "https://stabc.queue.core.windows.net",
    "tableServiceUri": "https://stabc.table.core.windows.net",
    "deploymentContainerUrl": "https://stabc.blob.core.windows.net/app-package-abc",
    "applicationInsightsConnectionString": "InstrumentationKey=44444444-4444-4444-8444-444444444444;"
    "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/",
    "keyVaultUri": "https://kv-abc.vault.azure.net/",
    "apiTenantId": TENANT,
    "apiAudience": f"api://{TENANT}/pimwarden-abc,55555555-5555-4555-8555-555555555555",
    "apiIssuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
    "apiJwksUrl": f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys",
}
MAIN_REQUIRED = {"environmentName": "prod", "location": "westeurope"}


def main_scope(**params: Any) -> Scope:
    return Scope(MAIN, {**MAIN_REQUIRED, **params})


def function_params(**main_params: Any) -> dict[str, Any]:
    """What main.bicep passes to app/function.bicep, with deployment-time values sampled."""
    scope = main_scope(**main_params)
    assert module_path(scope, "functionApp") == FUNCTION
    given = module_params(scope, "functionApp")
    return {name: SAMPLES[name] if isinstance(value, Opaque) else value for name, value in given.items()}


def opaque_function_params(**main_params: Any) -> set[str]:
    scope = main_scope(**main_params)
    return {n for n, v in module_params(scope, "functionApp").items() if isinstance(v, Opaque)}


def app_settings(**main_params: Any) -> dict[str, str]:
    """The Function App's settings as deployed with these main.bicep parameters."""
    scope = Scope(FUNCTION, function_params(**main_params))
    (config,) = resources(FUNCTION, "Microsoft.Web/sites/config").values()
    assert body(config)["name"] == "appsettings"
    values = {name: scope.eval(value) for name, value in body(config)["properties"].items()}
    unresolved = {n for n, v in values.items() if not isinstance(v, str | int | bool)}
    assert not unresolved, f"settings without a concrete value: {sorted(unresolved)}"
    return {name: str(value) for name, value in values.items()}


class _Recorder(dict[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


READERS = (Settings.from_env, EngineConfig.from_env, ApiConfig.from_env, ComplianceConfig.from_env)


def names_the_app_reads() -> frozenset[str]:
    """Every setting PIM Warden's configuration readers ask the environment for."""
    recorder = _Recorder()
    for read in READERS:
        with contextlib.suppress(SettingsError):  # an empty environment is invalid; names were read
            read(recorder)
    return frozenset(recorder.asked)


def read_all(env: dict[str, str]) -> list[Any]:
    """Every configuration object, built from `env` as the app builds them (SettingsError if invalid)."""
    return [read(env) for read in READERS]

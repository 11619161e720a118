"""GET /api/health through the real entry point: healthy on Azurite, 503 without leaking secrets."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import azure.functions as func
import pytest

from devstack.azurite import ACCOUNT_KEY, connection_string
from devstack.process import free_port
from shared import __version__, runtime

from .hostcheck import find_app, index, load_module

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]


@pytest.fixture
async def app_env(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[pytest.MonkeyPatch]:
    """The sample settings as the environment, with cached runtime objects dropped before and after."""
    for name in SAMPLE:
        monkeypatch.setenv(name, SAMPLE[name])
    monkeypatch.setenv("PIMWARDEN_TABLE_PREFIX", f"h{uuid.uuid4().hex[:12]}")
    runtime.reset()
    yield monkeypatch
    await runtime.aclose()


async def call_health() -> tuple[int, dict[str, object], str]:
    [health] = [f for f in index(find_app(load_module(ROOT))) if f.name == "health"]
    req = func.HttpRequest(method="GET", url="http://localhost/api/health", body=b"")
    resp = await health.user_function(req)
    text = resp.get_body().decode()
    assert resp.mimetype == "application/json"
    return resp.status_code, json.loads(text), text


@pytest.mark.azurite
async def test_healthy_with_azurite(app_env: pytest.MonkeyPatch, azurite: str) -> None:
    app_env.setenv("PimWardenStorage", azurite)
    status, body, text = await call_health()
    assert status == 200, text
    assert body["healthy"] is True and body["version"] == __version__
    assert body["storage"]["reachable"] is True and body["storage"]["mode"] == "connection-string"
    assert body["graph"] == {"base_url": "http://127.0.0.1:8765/v1.0", "credential": "static-dev-token",
                             "usable": True, "checked": "settings only"}
    assert ACCOUNT_KEY not in text


async def test_unreachable_storage_is_503_without_the_key(app_env: pytest.MonkeyPatch) -> None:
    port = free_port()
    app_env.setenv("PimWardenStorage", connection_string(port, port))
    status, body, text = await call_health()
    assert status == 503
    assert body["storage"]["reachable"] is False and body["storage"]["error"] == "ServiceRequestError"
    assert ACCOUNT_KEY not in text and "AccountKey" not in text


async def test_malformed_settings_are_503_naming_settings_not_values(app_env: pytest.MonkeyPatch) -> None:
    app_env.setenv("PimWardenStorage", "AccountName=prod;TopSecretNoEquals")
    app_env.setenv("PIMWARDEN_GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0")  # with static-dev-token
    status, body, text = await call_health()
    assert status == 503
    assert body["settings"] == {"valid": False, "invalid": ["PIMWARDEN_CREDENTIAL", "PimWardenStorage"]}
    assert "TopSecret" not in text


async def test_feature_settings_are_checked_too(app_env: pytest.MonkeyPatch) -> None:
    """A typo in the engine's, the API's or the compliance trail's settings shows in health, not only
    when a timer or a webhook runs."""
    app_env.setenv("PIMWARDEN_LEASE_SECONDS", "soon")
    app_env.setenv("PIMWARDEN_PROTECTED_PRINCIPALS", "breakglass@contoso.com")
    app_env.setenv("PIMWARDEN_RETENTION_DAYS", "-1")
    status, body, text = await call_health()
    assert status == 503
    assert body["settings"] == {
        "valid": False,
        "invalid": ["PIMWARDEN_LEASE_SECONDS", "PIMWARDEN_PROTECTED_PRINCIPALS", "PIMWARDEN_RETENTION_DAYS"],
    }
    assert "breakglass@contoso.com" not in text


WHSEC = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGhlLWdlbmVyaWMtc291cmNlISE="  # 32 bytes
T = "PIMWARDEN_TICKETS_"
BROKEN_SOURCES = [
    ({f"{T}GENERIC_SECRETS": "whsec_TopSecret!!"}, f"{T}GENERIC_SECRETS", "generic"),
    ({f"{T}SERVICENOW_SECRETS": "TopSecretWithoutPrefix"}, f"{T}SERVICENOW_SECRETS", "servicenow"),
    ({f"{T}SERVICENOW_SECRETS": WHSEC, f"{T}SERVICENOW_MAPPING": '{"user": TopSecret'},
     f"{T}SERVICENOW_MAPPING", "servicenow"),
    ({f"{T}JIRA_SECRETS": "TopSecret-jira-0123456789"}, f"{T}JIRA_MAPPING", "jira"),
    ({f"{T}JIRA_SECRETS": "TopSecret"}, f"{T}JIRA_SECRETS", "jira"),
]


@pytest.mark.parametrize(("env", "setting", "source"), BROKEN_SOURCES)
async def test_a_broken_ticket_source_is_503_naming_its_setting(
    app_env: pytest.MonkeyPatch, env: dict[str, str], setting: str, source: str
) -> None:
    """Every signed delivery to such a source would be refused; health says so first, by setting name."""
    for name, value in env.items():
        app_env.setenv(name, value)
    status, body, text = await call_health()
    assert status == 503
    assert setting in body["settings"]["invalid"]  # type: ignore[index]
    assert body["ticket_sources"][source] == "broken"  # type: ignore[index]
    assert "TopSecret" not in text


@pytest.mark.azurite
async def test_configured_sources_are_ready_and_unused_ones_off(
    app_env: pytest.MonkeyPatch, azurite: str
) -> None:
    app_env.setenv("PimWardenStorage", azurite)
    app_env.setenv("PIMWARDEN_TICKETS_GENERIC_SECRETS", WHSEC)
    app_env.setenv("PIMWARDEN_TICKETS_JIRA_SECRETS", "jira-secret-0123456789")
    app_env.setenv("PIMWARDEN_TICKETS_JIRA_MAPPING", '{"app_field": "cf_1", "user_field": "cf_2"}')
    status, body, _ = await call_health()
    assert status == 200
    assert body["ticket_sources"] == {"generic": "ready", "servicenow": "off", "jira": "ready"}


async def test_a_sas_token_typed_into_the_service_uri_is_never_echoed(app_env: pytest.MonkeyPatch) -> None:
    app_env.delenv("PimWardenStorage")
    app_env.setenv("PimWardenStorage__tableServiceUri", "https://acct.table.core.windows.net/?sv=2024&sig=TopSecret")
    status, body, text = await call_health()
    assert status == 503 and "PimWardenStorage__tableServiceUri" in body["settings"]["invalid"]  # type: ignore[index]
    assert "TopSecret" not in text and "sig=" not in text

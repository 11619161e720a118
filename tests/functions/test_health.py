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

"""The static dev token is an unsigned app-only JWT naming PIM Warden's service principal, so a Graph
stand-in that reads the caller from the token records PIM Warden as the initiator of its writes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shared.credentials import (
    DEV_DISPLAY_NAME,
    DEV_SERVICE_PRINCIPAL_ID,
    DEV_TOKEN,
    StaticTokenCredential,
    build_credential,
    dev_token,
    manifest_roles,
)
from shared.engine.config import EngineConfig
from shared.permissions.manifest import load_manifest
from shared.settings import Settings, SettingsError

LOOPBACK = {"PimWardenStorage": "UseDevelopmentStorage=true", "PIMWARDEN_CREDENTIAL": "static-dev-token",
            "PIMWARDEN_GRAPH_BASE_URL": "http://127.0.0.1:8765/v1.0"}
SAMPLE = Path(__file__).resolve().parents[2] / "local.settings.sample.json"


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, claims, signature = token.split(".")

    def part(text: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))))

    return part(header), part(claims), signature


def test_the_dev_token_is_an_unsigned_app_only_jwt() -> None:
    header, claims, signature = decode(DEV_TOKEN)
    assert header == {"alg": "none", "typ": "JWT"} and signature == ""
    assert claims["oid"] == DEV_SERVICE_PRINCIPAL_ID
    assert claims["app_displayname"] == DEV_DISPLAY_NAME and claims["appid"]


async def test_the_credential_names_the_first_configured_service_principal() -> None:
    first, second = "A1B2C3D4-0000-4000-8000-000000000001", "a1b2c3d4-0000-4000-8000-000000000002"
    env = {"PIMWARDEN_SERVICE_PRINCIPAL_ID": f" {first} , {second}"}
    credential = build_credential(Settings.from_env(LOOPBACK), env)
    token = (await credential.get_token("https://graph.microsoft.com/.default")).token
    assert decode(token)[1]["oid"] == first.lower()
    assert token not in repr(credential)


async def test_without_a_configured_id_the_dev_id_is_named() -> None:
    credential = build_credential(Settings.from_env(LOOPBACK), {})
    assert isinstance(credential, StaticTokenCredential)
    token = (await credential.get_token_info("https://graph.microsoft.com/.default")).token
    assert decode(token)[1]["oid"] == DEV_SERVICE_PRINCIPAL_ID


def test_the_dev_token_holds_exactly_the_manifests_always_needed_permissions() -> None:
    always = sorted(p.name for p in load_manifest().always())
    assert decode(DEV_TOKEN)[1]["roles"] == always
    assert decode(dev_token(roles=["Directory.Read.All"]))[1]["roles"] == ["Directory.Read.All"]


async def test_the_dev_credential_adds_the_permissions_of_settings_in_use() -> None:
    always = {p.name for p in load_manifest().always()}
    attribute = {"PIMWARDEN_HIGH_VALUE_ATTRIBUTE": "Applications/Tier=HighValue"}
    plain = build_credential(Settings.from_env(LOOPBACK), {})
    selector = build_credential(Settings.from_env(LOOPBACK), attribute)
    scope = "https://graph.microsoft.com/.default"
    # the shipped profiles include one with protected (role-assignable) groups
    assert set(decode((await plain.get_token(scope)).token)[1]["roles"]) == always | {
        "RoleManagement.ReadWrite.Directory"
    }
    assert set(decode((await selector.get_token(scope)).token)[1]["roles"]) == always | {
        "RoleManagement.ReadWrite.Directory", "CustomSecAttributeAssignment.Read.All"
    }
    assert manifest_roles({}) == tuple(p.name for p in load_manifest().always())


def test_the_sample_settings_recognise_the_dev_callers_writes() -> None:
    values = json.loads(SAMPLE.read_text())["Values"]
    assert values["PIMWARDEN_SERVICE_PRINCIPAL_ID"] == DEV_SERVICE_PRINCIPAL_ID
    config = EngineConfig.from_env(values)
    assert config.own_service_principals == frozenset({DEV_SERVICE_PRINCIPAL_ID})
    assert decode(dev_token(sorted(config.own_service_principals)[0]))[1]["oid"] == DEV_SERVICE_PRINCIPAL_ID


def test_the_engine_reads_its_own_ids_lower_cased_and_refuses_non_guids() -> None:
    upper = DEV_SERVICE_PRINCIPAL_ID.upper()
    assert EngineConfig.from_env({"PIMWARDEN_SERVICE_PRINCIPAL_ID": upper}).own_service_principals == {
        DEV_SERVICE_PRINCIPAL_ID}
    assert EngineConfig.from_env({}).own_service_principals == frozenset()
    with pytest.raises(SettingsError, match="PIMWARDEN_SERVICE_PRINCIPAL_ID"):
        EngineConfig.from_env({"PIMWARDEN_SERVICE_PRINCIPAL_ID": "pimwarden@contoso.com"})

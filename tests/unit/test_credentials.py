"""Credential factory: managed identity by default, the static dev token only for a loopback Graph."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from azure.core.credentials import AccessToken
from azure.identity.aio import DefaultAzureCredential

from shared.credentials import (
    DEV_TOKEN,
    CredentialError,
    StaticTokenCredential,
    build_credential,
    build_storage_credential,
)
from shared.settings import CredentialKind, Settings

CONN = "UseDevelopmentStorage=true"


async def test_static_token_for_a_loopback_graph() -> None:
    s = Settings.from_env({"PimWardenStorage": CONN, "PIMWARDEN_CREDENTIAL": "static-dev-token",
                           "PIMWARDEN_GRAPH_BASE_URL": "http://127.0.0.1:8765/v1.0"})
    credential = build_credential(s)
    assert isinstance(credential, StaticTokenCredential)
    token = await credential.get_token("https://graph.microsoft.com/.default")
    assert isinstance(token, AccessToken) and token.token.split(".")[0] == DEV_TOKEN.split(".")[0]
    assert token.expires_on > time.time() + 3000
    info = await credential.get_token_info("https://graph.microsoft.com/.default")
    assert info.token == token.token
    assert token.token not in repr(credential)


@pytest.mark.parametrize("url", ["https://graph.microsoft.com/v1.0", "https://127.0.0.1.nip.io/v1.0"])
def test_static_token_is_refused_for_a_non_loopback_graph(url: str) -> None:
    s = replace(Settings.from_env({"PimWardenStorage": CONN}), credential=CredentialKind.STATIC_DEV_TOKEN,
                graph_base_url=url)
    with pytest.raises(CredentialError, match="non-loopback"):
        build_credential(s)


async def test_managed_identity_by_default() -> None:
    credential = build_credential(Settings.from_env({"PimWardenStorage": CONN}))
    try:
        assert isinstance(credential, DefaultAzureCredential)
    finally:
        await credential.close()


async def test_storage_token_credential_needs_an_https_service_uri() -> None:
    with pytest.raises(CredentialError, match="https"):
        build_storage_credential(Settings.from_env({"PimWardenStorage": CONN}))
    s = Settings.from_env({"PimWardenStorage__tableServiceUri": "https://acct.table.core.windows.net"})
    credential = build_storage_credential(s)
    await credential.close()

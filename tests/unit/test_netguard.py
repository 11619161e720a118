"""The loopback guard of the test suite: off-loopback connections and lookups fail, loudly and on record."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

from tests import netguard

IMDS = "169.254.169.254"


def test_a_blocking_connect_off_loopback_is_refused_and_recorded(loopback_only: list[str]) -> None:
    with pytest.raises(netguard.OffLoopbackError), socket.create_connection((IMDS, 80), timeout=1):
        pass
    with socket.socket() as sock, pytest.raises(netguard.OffLoopbackError):
        sock.connect_ex(("10.0.0.1", 443))
    assert loopback_only == [f"connect to {IMDS}:80", "connect to 10.0.0.1:443"]
    loopback_only.clear()  # expected here; any other test doing this fails at teardown


async def test_asyncio_connections_and_name_lookups_are_refused(loopback_only: list[str]) -> None:
    with pytest.raises(OSError):
        await asyncio.open_connection(IMDS, 80)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get("https://login.microsoftonline.com/common/discovery/v2.0/keys")
    assert any(IMDS in a for a in loopback_only)
    assert "name lookup of login.microsoftonline.com" in loopback_only
    loopback_only.clear()


def test_managed_identity_probing_the_metadata_address_is_blocked(
    loopback_only: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    credential = ManagedIdentityCredential()
    with pytest.raises(CredentialUnavailableError):
        credential.get_token("https://graph.microsoft.com/.default")
    assert any(IMDS in a for a in loopback_only), loopback_only
    loopback_only.clear()


async def test_loopback_still_works() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _, writer = await asyncio.open_connection("localhost", port)
        writer.close()
    assert netguard.is_loopback_host("::1") and not netguard.is_loopback_host("localhost.evil.example")

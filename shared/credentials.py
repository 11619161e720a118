"""Credential factory: managed identity in Azure, a fixed token only for a local Graph stand-in.

The choice is made from Settings in one place so no other module decides how to authenticate.
Table Storage over plain http (Azurite) cannot use a token credential at all (azure-data-tables
refuses with "Token credential is only supported with HTTPS"), so local storage always goes through
the connection string and only the Azure endpoint uses `build_storage_credential`.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

from shared.settings import CredentialKind, Settings, is_loopback_url

DEV_TOKEN = "pimwarden-dev-token"  # noqa: S105 - a fixed, public value for a loopback stand-in
_LIFETIME_SECONDS = 3600


class CredentialError(ValueError):
    """Raised when the configured credential cannot be used with the configured endpoint."""


class StaticTokenCredential:
    """An async credential that always returns the same token; for a loopback Graph stand-in only."""

    def __init__(self, token: str = DEV_TOKEN) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenCredential(<token hidden>)"

    async def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
        enable_cae: bool = False, **kwargs: Any,
    ) -> AccessToken:
        """Return the fixed token (kiota checks for an AccessToken instance)."""
        return AccessToken(self._token, int(time.time()) + _LIFETIME_SECONDS)

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        """Return the fixed token in the newer AccessTokenInfo shape."""
        return AccessTokenInfo(self._token, int(time.time()) + _LIFETIME_SECONDS)

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None = None, exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()


def build_credential(settings: Settings) -> AsyncTokenCredential:
    """The credential used for Microsoft Graph."""
    if settings.credential is CredentialKind.STATIC_DEV_TOKEN:
        if not is_loopback_url(settings.graph_base_url):
            raise CredentialError(
                "static-dev-token is refused for a non-loopback Graph URL "
                f"({settings.graph_base_url}); use managed-identity"
            )
        return StaticTokenCredential()
    return DefaultAzureCredential(managed_identity_client_id=settings.identity_client_id)


def build_storage_credential(settings: Settings) -> AsyncTokenCredential:
    """The credential for Table/Queue storage reached by service URI (never used with a connection string)."""
    uri = settings.storage.table_service_uri
    if not uri or not uri.startswith("https://"):
        raise CredentialError("a storage token credential needs an https PimWardenStorage__tableServiceUri")
    return DefaultAzureCredential(managed_identity_client_id=settings.storage_client_id())

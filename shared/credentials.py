"""Credential factory: managed identity in Azure, a fixed token only for a local Graph stand-in.

The choice is made from Settings in one place so no other module decides how to authenticate.
The dev token is shaped like an app-only Entra token (an unsigned JWT whose `oid` is PIM Warden's
service principal), so a stand-in that reads the caller from the token (graphsim does) records PIM
Warden as the initiator of its own writes, as Entra does, and the engine can recognise them. Its
`roles` claim holds exactly the permission manifest's always-needed application permissions, plus
those of the settings that are configured: graphsim authorizes on them as Graph does, so the local
stack runs with exactly what a deployment is granted.
Table Storage over plain http (Azurite) cannot use a token credential at all (azure-data-tables
refuses with "Token credential is only supported with HTTPS"), so local storage always goes through
the connection string and only the Azure endpoint uses `build_storage_credential`.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

from shared.permissions.manifest import load_manifest, options_in_use
from shared.settings import CredentialKind, Settings
from shared.url_rules import is_loopback_url

# Fixed, public ids of the dev caller; local.settings.sample.json names the same service principal in
# PIMWARDEN_SERVICE_PRINCIPAL_ID so the engine recognises its own writes on graphsim.
DEV_SERVICE_PRINCIPAL_ID = "2ed6e239-d71a-4e08-a2b9-e5d069b101b3"
DEV_APP_ID = "6d7b0ed3-de32-4333-b9e0-3adf1710a632"
DEV_DISPLAY_NAME = "PIM Warden (dev)"
SERVICE_PRINCIPAL_SETTING = "PIMWARDEN_SERVICE_PRINCIPAL_ID"
_LIFETIME_SECONDS = 3600


def manifest_roles(
    env: Mapping[str, str] | None = None, *, protected_groups: bool = False
) -> tuple[str, ...]:
    """The manifest's always-needed permissions, plus each optional one whose feature is in use: an
    attribute setting set in `env`, or `protected_groups` when a profile asks for role-assignable groups."""
    options = options_in_use({} if env is None else env, protected_groups=protected_groups)
    return tuple(p.name for p in load_manifest().needed(options))


def dev_token(
    service_principal_id: str = DEV_SERVICE_PRINCIPAL_ID, roles: Sequence[str] | None = None
) -> str:
    """An unsigned (`alg: none`) JWT with the claims of an app-only token for the dev caller, holding
    `roles` (default: the manifest's always-needed permissions)."""
    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "aud": "https://graph.microsoft.com",
        "idtyp": "app",
        "oid": service_principal_id,
        "appid": DEV_APP_ID,
        "app_displayname": DEV_DISPLAY_NAME,
        "roles": sorted(manifest_roles() if roles is None else roles),
    }
    return f"{_segment(header)}.{_segment(claims)}."


def _segment(data: Mapping[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


DEV_TOKEN = dev_token()  # a fixed, public value for a loopback stand-in


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


def build_credential(settings: Settings, env: Mapping[str, str] | None = None) -> AsyncTokenCredential:
    """The credential used for Microsoft Graph (`env`, default os.environ, names the dev caller)."""
    if settings.credential is CredentialKind.STATIC_DEV_TOKEN:
        if not is_loopback_url(settings.graph_base_url):
            raise CredentialError(
                "static-dev-token is refused for a non-loopback Graph URL "
                f"({settings.graph_base_url}); use managed-identity"
            )
        env = os.environ if env is None else env
        roles = manifest_roles(env, protected_groups=_protected_groups(settings))
        return StaticTokenCredential(dev_token(_first_service_principal(env), roles))
    return DefaultAzureCredential(managed_identity_client_id=settings.identity_client_id)


def _protected_groups(settings: Settings) -> bool:
    from shared.domain.profiles import ProfileError, load_profiles

    try:
        profiles = load_profiles(Path(settings.profiles_path) if settings.profiles_path else None)
    except ProfileError:
        return False  # the engine refuses such a file with its own clear error
    return any(p.protected_group for p in profiles.profiles.values())


def _first_service_principal(env: Mapping[str, str]) -> str:
    ids = [p.strip().lower() for p in env.get(SERVICE_PRINCIPAL_SETTING, "").split(",") if p.strip()]
    return ids[0] if ids else DEV_SERVICE_PRINCIPAL_ID


def build_storage_credential(settings: Settings) -> AsyncTokenCredential:
    """The credential for Table/Queue storage reached by service URI (never used with a connection string)."""
    uri = settings.storage.table_service_uri
    if not uri or not uri.startswith("https://"):
        raise CredentialError("a storage token credential needs an https PimWardenStorage__tableServiceUri")
    return DefaultAzureCredential(managed_identity_client_id=settings.storage_client_id())

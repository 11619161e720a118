"""`python -m shared permissions grant|check --principal OBJECT_ID`: give PIM Warden's managed identity
exactly the manifest's Microsoft Graph app roles (appRoleAssignedTo), or check that it has them.

Run by an admin with their OWN credential (Azure CLI sign-in by default, or an interactive browser
sign-in), never with PIM Warden's identity: a token whose `oid` is the principal being granted, or one
of PIMWARDEN_SERVICE_PRINCIPAL_ID, is refused. `grant` is idempotent (a second run changes nothing),
never removes anything, and `--dry-run` only prints what it would do. `dev-admin` is a fixed,
unsigned token for a loopback Graph stand-in only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import uuid
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential

from shared.credentials import StaticTokenCredential
from shared.graph.errors import NotFoundError
from shared.permissions.claims import read_claims
from shared.permissions.grants import GrantPlan, HeldRole, plan_grants, removal_hint
from shared.permissions.manifest import MICROSOFT_GRAPH_APP_ID, Manifest, Option, load_manifest
from shared.settings import DEFAULT_GRAPH_BASE_URL
from shared.url_rules import check_graph_url, graph_scope, is_loopback_url

# The loopback-only admin of `--credential dev-admin` (an app of its own: never PIM Warden's identity).
DEV_ADMIN_ID = "5f0c2a47-90a1-4c4e-9d8e-7d2b4c1a0e11"
DEV_ADMIN_ROLES = ("AppRoleAssignment.ReadWrite.All", "Application.Read.All")


class PermissionsError(Exception):
    """A refusal or a problem the admin can fix; printed as one line."""


def register(sub: Any) -> None:
    """Add `permissions grant` and `permissions check`."""
    perms = sub.add_parser("permissions", help="grant or check PIM Warden's Microsoft Graph permissions")
    actions = perms.add_subparsers(dest="action", required=True)
    for action, text in (("grant", "assign the missing app roles"), ("check", "compare held and needed")):
        p = actions.add_parser(action, help=text)
        p.add_argument("--principal", required=True, help="object id of PIM Warden's managed identity")
        p.add_argument(
            "--with-protected-groups", action="store_true", help="also RoleManagement.ReadWrite.Directory"
        )
        p.add_argument(
            "--with-attributes", action="store_true", help="also CustomSecAttributeAssignment.Read.All"
        )
        p.add_argument(
            "--credential",
            choices=("azure-cli", "interactive", "dev-admin"),
            default="azure-cli",
            help="the admin's sign-in (dev-admin: loopback Graph stand-in only)",
        )
        if action == "grant":
            p.add_argument(
                "--dry-run", action="store_true", help="print what would be granted, change nothing"
            )


def options_of(args: argparse.Namespace) -> frozenset[Option]:
    """The optional features asked for on the command line."""
    chosen = (
        (Option.PROTECTED_GROUPS, args.with_protected_groups),
        (Option.ATTRIBUTES, args.with_attributes),
    )
    return frozenset(o for o, wanted in chosen if wanted)


async def cmd_permissions(args: argparse.Namespace) -> int:
    try:
        principal = str(uuid.UUID(args.principal)).lower()
    except ValueError:
        raise PermissionsError("--principal must be an object id (GUID)") from None
    base_url = _graph_base_url()
    credential = admin_credential(args.credential, base_url)
    try:
        return await run_permissions(
            args.action,
            principal,
            options_of(args),
            credential,
            base_url,
            dry_run=getattr(args, "dry_run", False),
        )
    finally:
        await credential.close()


async def run_permissions(
    action: str,
    principal: str,
    options: frozenset[Option],
    credential: AsyncTokenCredential,
    base_url: str,
    *,
    dry_run: bool = False,
    transport: Any = None,
    manifest: Manifest | None = None,
) -> int:
    """Grant or check; 0 when done (check: exactly the manifest), 1 when check finds a difference."""
    from shared.graph.calls import CallRunner
    from shared.graph.client import build_graph_client
    from shared.graph.permission_grants import AppRoleGrants

    await refuse_own_identity(credential, principal, base_url)
    manifest = manifest or load_manifest()
    client = build_graph_client(base_url, credential, transport=transport)
    grants = AppRoleGrants(client, CallRunner(max_attempts=3), batch_reads=False)
    resource, names = await _microsoft_graph(grants, manifest)
    held = [
        HeldRole(
            str(a["id"]),
            str(a["appRoleId"]).lower(),
            names.get(str(a["appRoleId"]).lower(), str(a["appRoleId"])),
        )
        for a in await grants.held(resource, principal)
    ]
    plan = plan_grants(manifest, options, held)
    if action == "check":
        print_check(plan, resource)
        return 0 if plan.exact else 1
    for permission in plan.to_add:
        if dry_run:
            print(f"would grant {permission.name} ({permission.app_role_id})")
        elif await grants.grant(resource, principal, permission.app_role_id):
            print(f"granted {permission.name}")
        else:
            print(f"{permission.name} was already granted")
    print(f"{len(plan.present)} already granted, {len(plan.to_add)} {'to grant' if dry_run else 'granted'}")
    _print_superfluous(plan, resource)
    return 0


async def refuse_own_identity(credential: AsyncTokenCredential, principal: str, base_url: str) -> None:
    """Refuse PIM Warden's own identity: it must never grant itself permissions. The token is asked
    for the Graph cloud of `base_url` (a national cloud has its own scope)."""
    token = await credential.get_token(graph_scope(base_url))
    claims = read_claims(token.token)
    own = {
        p.strip().lower()
        for p in os.environ.get("PIMWARDEN_SERVICE_PRINCIPAL_ID", "").split(",")
        if p.strip()
    }
    if claims.object_id is not None and (claims.object_id == principal or claims.object_id in own):
        raise PermissionsError(
            f"refused: the credential is PIM Warden's own identity (oid {claims.object_id}); sign in as an "
            "admin (az login, or --credential interactive) and run this again"
        )


async def _microsoft_graph(grants: Any, manifest: Manifest) -> tuple[str, dict[str, str]]:
    try:
        sp = await grants.resource(MICROSOFT_GRAPH_APP_ID)
    except NotFoundError:
        raise PermissionsError("the tenant has no Microsoft Graph service principal") from None
    names = {str(r.get("id", "")).lower(): str(r.get("value") or "") for r in sp.get("appRoles") or []}
    unknown = [p.name for p in manifest.permissions if p.app_role_id not in names]
    if unknown:
        raise PermissionsError(
            f"Microsoft Graph declares no app role with the manifest's id for {', '.join(unknown)}"
        )
    return str(sp["id"]), names


def print_check(plan: GrantPlan, resource: str) -> None:
    """What the identity holds against what it needs."""
    for permission in plan.present:
        print(f"ok       {permission.name}")
    for permission in plan.to_add:
        print(f"MISSING  {permission.name}  (needed for {', '.join(permission.features)})")
    _print_superfluous(plan, resource)
    print(
        "exactly the needed permissions"
        if plan.exact
        else f"{len(plan.to_add)} missing, {len(plan.superfluous)} superfluous"
    )


def _print_superfluous(plan: GrantPlan, resource: str) -> None:
    for role in plan.superfluous:
        print(f"EXTRA    {role.name}: not needed; remove it with: {removal_hint(resource, role)}")


def _graph_base_url() -> str:
    """PIMWARDEN_GRAPH_BASE_URL, checked before any credential exists: the admin's Graph token goes
    only to a Microsoft Graph host (global or national cloud) or a loopback stand-in."""
    url = os.environ.get("PIMWARDEN_GRAPH_BASE_URL", "").strip() or DEFAULT_GRAPH_BASE_URL
    if problem := check_graph_url(url):
        raise PermissionsError(f"PIMWARDEN_GRAPH_BASE_URL {problem}; refused (no token was requested)")
    return url


def admin_credential(kind: str, base_url: str) -> AsyncTokenCredential:
    """The admin's credential: Azure CLI sign-in, an interactive browser sign-in, or (loopback only) the
    fixed dev admin."""
    if kind == "dev-admin":
        if not is_loopback_url(base_url):
            raise PermissionsError("dev-admin is refused for a non-loopback Graph URL")
        return StaticTokenCredential(dev_admin_token())
    if kind == "interactive":
        from azure.identity import InteractiveBrowserCredential

        return SyncCredential(InteractiveBrowserCredential())
    from azure.identity.aio import AzureCliCredential

    return AzureCliCredential()


def dev_admin_token() -> str:
    """An unsigned app-only JWT for the loopback dev admin (graphsim reads `oid` and `roles`)."""
    claims = {
        "aud": "https://graph.microsoft.com",
        "idtyp": "app",
        "oid": DEV_ADMIN_ID,
        "appid": DEV_ADMIN_ID,
        "app_displayname": "PIM Warden dev admin",
        "roles": list(DEV_ADMIN_ROLES),
    }
    parts = [{"alg": "none", "typ": "JWT"}, claims]
    encoded = [
        base64.urlsafe_b64encode(json.dumps(p, separators=(",", ":")).encode()).decode().rstrip("=")
        for p in parts
    ]
    return f"{encoded[0]}.{encoded[1]}."


class SyncCredential:
    """An azure-identity sync credential (interactive sign-in) used from async code, off the event loop."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return await asyncio.to_thread(self._inner.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        self._inner.close()

    async def __aenter__(self) -> SyncCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


COMMANDS = {"permissions": cmd_permissions}

"""The demo's first step: an admin grants PIM Warden's identity exactly the manifest's permissions
(`python -m shared permissions grant`, twice: the second run changes nothing), then the preflight
(`python -m shared doctor`) runs once with a token holding everything needed and once with a token
missing one permission, which it must name with the command that grants it."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable

from devstack.demo_client import expect
from shared.cli.permissions import dev_admin_token, run_permissions
from shared.credentials import DEV_APP_ID, DEV_DISPLAY_NAME, DEV_SERVICE_PRINCIPAL_ID, StaticTokenCredential
from shared.doctor import render
from shared.doctor.run import run_doctor
from shared.permissions.manifest import Option, load_manifest

OPTIONS = frozenset({Option.ATTRIBUTES})  # the sample settings select apps by a custom security attribute
LEFT_OUT = "AuditLog.Read.All"


def app_token(roles: Iterable[str]) -> str:
    """PIM Warden's dev token with a `roles` claim: what Entra issues once the roles are granted."""
    claims = {
        "aud": "https://graph.microsoft.com",
        "idtyp": "app",
        "oid": DEV_SERVICE_PRINCIPAL_ID,
        "appid": DEV_APP_ID,
        "app_displayname": DEV_DISPLAY_NAME,
        "roles": sorted(roles),
    }
    parts = [{"alg": "none", "typ": "JWT"}, claims]
    return (
        ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts) + "."
    )


async def grant_permissions() -> None:
    """The admin's grant, run twice."""
    base_url = os.environ["PIMWARDEN_GRAPH_BASE_URL"]
    for attempt in ("", " (again: nothing changes)"):
        print(
            f"$ python -m shared permissions grant --principal {DEV_SERVICE_PRINCIPAL_ID} --with-attributes"
            f" --credential dev-admin{attempt}"
        )
        code = await run_permissions(
            "grant", DEV_SERVICE_PRINCIPAL_ID, OPTIONS, StaticTokenCredential(dev_admin_token()), base_url
        )
        expect(code == 0, "permissions grant succeeds")


async def doctor(roles: Iterable[str]) -> bool:
    """`python -m shared doctor` with PIM Warden's token holding `roles`; whether it is ready."""
    print("$ python -m shared doctor")
    report = await run_doctor(os.environ, credential=StaticTokenCredential(app_token(roles)))
    print(render.table(report))
    return report.ok


async def preflight() -> None:
    """Grant, then the preflight with everything granted and with one permission missing."""
    needed = [p.name for p in load_manifest().needed(OPTIONS)]
    await grant_permissions()
    print("\n-- PIM Warden's token holds exactly the needed permissions")
    expect(await doctor(needed), "the preflight passes with every needed permission")
    print(f"\n-- the same, without {LEFT_OUT}")
    expect(not await doctor([n for n in needed if n != LEFT_OUT]), f"the preflight fails without {LEFT_OUT}")

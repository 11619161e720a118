"""The demo's first step: an admin grants PIM Warden's identity exactly the manifest's permissions
(`python -m shared permissions grant`, twice: the second run changes nothing), then the preflight
(`python -m shared doctor`) runs once with a token holding everything needed and once with a token
missing one permission, which it must name with the command that grants it."""

from __future__ import annotations

import os
from collections.abc import Iterable

import httpx

from devstack.demo_client import expect
from shared.cli.permissions import dev_admin_token, run_permissions
from shared.credentials import DEV_APP_ID, DEV_DISPLAY_NAME, DEV_SERVICE_PRINCIPAL_ID, StaticTokenCredential
from shared.doctor import render
from shared.doctor.run import run_doctor
from shared.permissions.manifest import Option, load_manifest

OPTIONS = frozenset({Option.ATTRIBUTES})  # the sample settings select apps by a custom security attribute
LEFT_OUT = "AuditLog.Read.All"


async def app_token(root: str, roles: Iterable[str]) -> str:
    """PIM Warden's token holding `roles`, minted by graphsim's control plane (`POST /_sim/tokens`):
    what Entra issues to its identity once those roles are granted."""
    body = {
        "client": DEV_DISPLAY_NAME,
        "roles": sorted(roles),
        "appId": DEV_APP_ID,
        "objectId": DEV_SERVICE_PRINCIPAL_ID,
    }
    async with httpx.AsyncClient(base_url=root, timeout=30) as http:
        response = await http.post("/_sim/tokens", json=body)
        response.raise_for_status()
        return str(response.json()["access_token"])


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


async def doctor(root: str, roles: Iterable[str]) -> bool:
    """`python -m shared doctor` with PIM Warden's token holding `roles`; whether it is ready."""
    print("$ python -m shared doctor")
    report = await run_doctor(os.environ, credential=StaticTokenCredential(await app_token(root, roles)))
    print(render.table(report))
    return report.ok


async def preflight(root: str) -> None:
    """Grant, then the preflight with everything granted and with one permission missing."""
    needed = [p.name for p in load_manifest().needed(OPTIONS)]
    await grant_permissions()
    print("\n-- PIM Warden's token holds exactly the needed permissions")
    expect(await doctor(root, needed), "the preflight passes with every needed permission")
    print(f"\n-- the same, without {LEFT_OUT}")
    expect(
        not await doctor(root, [n for n in needed if n != LEFT_OUT]),
        f"the preflight fails without {LEFT_OUT}",
    )

"""Drift made the way people make it: raw Graph calls (a portal click, a script) against managed apps.

Each kind is one of the issue's drift cases; `inject` spreads the kinds over the given apps in turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

PIM_POLICIES = "/v1.0/policies/roleManagementPolicyAssignments"
DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"  # the default app role of an app with none


@dataclass(frozen=True)
class Target:
    """A managed app: its service principal, its group, and a user to misuse."""

    sp_id: str
    group_id: str
    user_id: str


async def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text[:300]}")
    return response


async def assignment_not_required(http: httpx.AsyncClient, t: Target) -> None:
    """Someone switches "assignment required" off on the enterprise app."""
    body = {"appRoleAssignmentRequired": False}
    await _ok(await http.patch(f"/v1.0/servicePrincipals/{t.sp_id}", json=body))


async def member_around_pim(http: httpx.AsyncClient, t: Target) -> None:
    """A group owner adds a member directly, around PIM."""
    ref = {"@odata.id": f"{http.base_url}/v1.0/directoryObjects/{t.user_id}"}
    await _ok(await http.post(f"/v1.0/groups/{t.group_id}/members/$ref", json=ref))


async def group_unassigned(http: httpx.AsyncClient, t: Target) -> None:
    """The group's app role assignment is removed from the app."""
    listed = await _ok(await http.get(f"/v1.0/servicePrincipals/{t.sp_id}/appRoleAssignedTo"))
    for assignment in listed.json()["value"]:
        if assignment["principalId"] == t.group_id:
            path = f"/v1.0/servicePrincipals/{t.sp_id}/appRoleAssignedTo/{assignment['id']}"
            await _ok(await http.delete(path))


async def direct_assignment(http: httpx.AsyncClient, t: Target) -> None:
    """A user is assigned to the app directly, bypassing the group."""
    body = {"principalId": t.user_id, "resourceId": t.sp_id, "appRoleId": DEFAULT_ACCESS}
    await _ok(await http.post(f"/v1.0/servicePrincipals/{t.sp_id}/appRoleAssignedTo", json=body))


async def policy_loosened(http: httpx.AsyncClient, t: Target) -> None:
    """The member role's activation maximum is raised to 8 hours in the portal."""
    scope = f"scopeId eq '{t.group_id}' and scopeType eq 'Group'"
    query = {"$filter": f"{scope} and roleDefinitionId eq 'member'"}
    found = await _ok(await http.get(PIM_POLICIES, params=query))
    policy_id = found.json()["value"][0]["policyId"]
    rule = f"/v1.0/policies/roleManagementPolicies/{policy_id}/rules/Expiration_EndUser_Assignment"
    body = (await _ok(await http.get(rule))).json()
    body.pop("@odata.context", None)
    await _ok(await http.patch(rule, json={**body, "maximumDuration": "PT8H"}))


async def group_deleted(http: httpx.AsyncClient, t: Target) -> None:
    """The group is deleted."""
    await _ok(await http.delete(f"/v1.0/groups/{t.group_id}"))


KINDS: Sequence[Callable[[httpx.AsyncClient, Target], Awaitable[None]]] = (
    assignment_not_required, member_around_pim, group_unassigned, direct_assignment, policy_loosened,
    group_deleted,
)


async def inject(http: httpx.AsyncClient, targets: Sequence[Target]) -> list[str]:
    """Drift each target with the next kind in turn; returns the kinds used, in order."""
    used = []
    for index, target in enumerate(targets):
        kind = KINDS[index % len(KINDS)]
        await kind(http, target)
        used.append(kind.__name__)
    return used

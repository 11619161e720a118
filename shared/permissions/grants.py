"""Granting the manifest's app roles to PIM Warden's identity: the pure plan.

An application permission is an app role assignment on the Microsoft Graph service principal
(`appRoleAssignedTo`, with principalId, resourceId and appRoleId). The plan compares what the
identity holds there with what the deployment needs: what to add, what is already there, and what is
held but not needed. Nothing is ever removed automatically (taking a permission away can stop the
product mid-run); superfluous ones are reported with the command that removes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.permissions.manifest import Manifest, Option, Permission


@dataclass(frozen=True)
class HeldRole:
    """One app role assignment the identity holds on Microsoft Graph."""

    assignment_id: str
    app_role_id: str
    name: str  # the app role's value, or its id when Microsoft Graph does not declare it


@dataclass(frozen=True)
class GrantPlan:
    """What `permissions grant` would do and `permissions check` reports."""

    to_add: tuple[Permission, ...]
    present: tuple[Permission, ...]
    superfluous: tuple[HeldRole, ...]

    @property
    def exact(self) -> bool:
        return not self.to_add and not self.superfluous


def plan_grants(manifest: Manifest, options: frozenset[Option], held: Iterable[HeldRole]) -> GrantPlan:
    """Compare the held app roles with the permissions the deployment needs."""
    held = tuple(held)
    held_ids = {h.app_role_id.lower() for h in held}
    needed = manifest.needed(options)
    needed_ids = {p.app_role_id for p in needed}
    return GrantPlan(
        to_add=tuple(p for p in needed if p.app_role_id not in held_ids),
        present=tuple(p for p in needed if p.app_role_id in held_ids),
        superfluous=tuple(h for h in held if h.app_role_id.lower() not in needed_ids),
    )


def removal_hint(graph_sp_id: str, role: HeldRole) -> str:
    """The command an admin runs to remove a superfluous app role assignment by hand."""
    return (
        "az rest --method DELETE --url "
        f"https://graph.microsoft.com/v1.0/servicePrincipals/{graph_sp_id}/appRoleAssignedTo/{role.assignment_id}"
    )

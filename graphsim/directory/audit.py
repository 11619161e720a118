"""Directory audit entries (`auditLogs/directoryAudits`) in the shape Graph returns them.

Why: compliance reporting reads these; group, membership and app-role-assignment changes made
through the simulator must leave the same trail Entra leaves (category, activity names, targets).
The initiator is the calling app as its token names it (app.py puts it in `CALLER` for the length of
one request), as Entra records an app-only caller; an opaque token leaves the fixed `CALLER_APP`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from graphsim.state import Tenant

# The caller of a client-credentials app: Entra records the app, not a user.
CALLER_APP = {
    "appId": "9b6f3c3e-2f4a-4d5e-8b1c-6a7d8e9f0a1b",
    "displayName": "PIM Warden",
    "servicePrincipalId": "5d1b6f0a-7c3e-4b2a-9e8d-1f2a3b4c5d6e",
    "servicePrincipalName": None,
}
# The app named by the current request's JWT bearer token (None: opaque token, or no request).
CALLER: ContextVar[dict[str, Any] | None] = ContextVar("graphsim_caller_app", default=None)
_TARGET_TYPES = {"users": "User", "groups": "Group", "servicePrincipals": "ServicePrincipal"}


@contextmanager
def calling_app(app: dict[str, Any] | None) -> Iterator[None]:
    """Within the block, audit entries name `app` as their initiator (None: the fixed CALLER_APP)."""
    token = CALLER.set(app)
    try:
        yield
    finally:
        CALLER.reset(token)


def caller_app() -> dict[str, Any]:
    """The `initiatedBy.app` of an entry written now."""
    return dict(CALLER.get() or CALLER_APP)


def target(tenant: Tenant, object_id: str, modified: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A targetResources item for a directory object (whatever state it is in)."""
    found = tenant.directory_object(object_id)
    obj = found[1] if found else tenant.deleted.get(object_id, {})
    kind = _TARGET_TYPES.get(found[0], "Group") if found else "Group"
    return {
        "id": object_id,
        "displayName": obj.get("displayName"),
        "type": kind,
        "userPrincipalName": obj.get("userPrincipalName"),
        "groupType": None
        if kind != "Group"
        else ("unifiedGroups" if "Unified" in obj.get("groupTypes", []) else "azureAD"),
        "modifiedProperties": modified or [],
    }


def prop(name: str, old: Any, new: Any) -> dict[str, Any]:
    """A modifiedProperties item (Graph writes the values as JSON text)."""

    def text(v: Any) -> str | None:
        return None if v is None else f'"{v}"'

    return {"displayName": name, "oldValue": text(old), "newValue": text(new)}


def append(tenant: Tenant, entry: dict[str, Any]) -> dict[str, Any]:
    """Store an entry, filling id, activityDateTime and Graph's defaults where missing."""
    full = {
        "id": f"Directory_{tenant.new_id()}_{len(tenant.audits) + 1}",
        "category": "Other",
        "correlationId": tenant.new_id(),
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "",
        "activityDateTime": tenant.now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
        "loggedByService": "Core Directory",
        "operationType": "Add",
        "initiatedBy": {"user": None, "app": caller_app()},
        "targetResources": [],
        "additionalDetails": [],
    }
    full.update(entry)
    tenant.audits.append(full)
    return full


def record(
    tenant: Tenant, activity: str, category: str, operation: str, targets: list[dict[str, Any]]
) -> None:
    """Record a Core Directory activity."""
    append(
        tenant,
        {
            "activityDisplayName": activity,
            "category": category,
            "operationType": operation,
            "targetResources": targets,
        },
    )


def newest_first(tenant: Tenant) -> list[dict[str, Any]]:
    """All entries, most recent first (Graph's default order)."""
    ranked = sorted(enumerate(tenant.audits), key=lambda p: (p[1]["activityDateTime"], p[0]), reverse=True)
    return [entry for _, entry in ranked]

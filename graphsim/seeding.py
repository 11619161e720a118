"""Seed and dump the tenant as Graph JSON keyed by collection, ids kept (for /_sim/seed and /_sim/state).

Why Graph's own shapes: a documented example can then be replayed against exactly the objects it
names. Collections this module does not own (PIM, policies) are forwarded to the plugins.
"""

from __future__ import annotations

from typing import Any

from graphsim.directory import audit, shapes
from graphsim.errors import GraphError
from graphsim.state import Tenant

DIRECTORY_KEYS = {
    "users",
    "servicePrincipals",
    "groups",
    "appRoleAssignments",
    "members",
    "owners",
    "directoryAudits",
    "deletedItems",
}
PLUGIN_KEYS = {
    "roleManagementPolicies",
    "roleManagementPolicyAssignments",
    "eligibilitySchedules",
    "assignmentSchedules",
    "eligibilityScheduleRequests",
    "assignmentScheduleRequests",
    "eligibilityScheduleInstances",
    "assignmentScheduleInstances",
}
_USER_DEFAULTS: dict[str, Any] = {"businessPhones": [], "accountEnabled": True, "userType": "Member"}
_SP_DEFAULTS: dict[str, Any] = {
    "deletedDateTime": None,
    "accountEnabled": True,
    "appRoleAssignmentRequired": False,
    "appRoles": [],
    "tags": [],
    "servicePrincipalType": "Application",
    "alternativeNames": [],
    "servicePrincipalNames": [],
}


def seed(tenant: Tenant, body: Any) -> dict[str, int]:
    """Add the given objects (ids kept); returns how many of each were seeded."""
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Seed body must be an object keyed by collection.")
    unknown = set(body) - DIRECTORY_KEYS - (PLUGIN_KEYS if tenant.plugins else set())
    if unknown:
        raise GraphError(400, "BadRequest", f"Unknown collections: {sorted(unknown)}")
    counts: dict[str, int] = {}
    for name, defaults in (("users", _USER_DEFAULTS), ("servicePrincipals", _SP_DEFAULTS)):
        for obj in _objects(body, name):
            tenant.collection(name)[obj["id"]] = {**defaults, **obj}
            tenant.record(name, obj["id"], "created")
            counts[name] = counts.get(name, 0) + 1
    for obj in _objects(body, "groups"):
        group = shapes.new_group(
            obj["id"],
            {"mailNickname": obj.get("mailNickname", obj["id"][:8])},
            obj.get("createdDateTime", tenant.stamp()),
            tenant.domain,
        )
        group.update(obj)
        tenant.groups[obj["id"]] = group
        tenant.members.setdefault(obj["id"], {})
        tenant.owners.setdefault(obj["id"], {})
        tenant.record("groups", obj["id"], "created")
        counts["groups"] = counts.get("groups", 0) + 1
    _seed_links(tenant, body)
    _seed_assignments(tenant, body)
    for entry in body.get("directoryAudits", []):
        audit.append(tenant, entry)
    for obj in _objects(body, "deletedItems"):
        tenant.deleted[obj["id"]] = obj
    for plugin in tenant.plugins.values():
        plugin.seed({k: v for k, v in body.items() if k in PLUGIN_KEYS})
    return counts


def _objects(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = body.get(name, [])
    if not isinstance(items, list) or not all(
        isinstance(o, dict) and isinstance(o.get("id"), str) for o in items
    ):
        raise GraphError(400, "BadRequest", f"'{name}' must be a list of objects with a string 'id'.")
    return [{k: v for k, v in o.items() if k != "@odata.type"} for o in items]


def _seed_links(tenant: Tenant, body: dict[str, Any]) -> None:
    for relation in ("members", "owners"):
        links = body.get(relation, {})
        if not isinstance(links, dict):
            raise GraphError(400, "BadRequest", f"'{relation}' must map a group id to a list of ids.")
        for group_id, ids in links.items():
            target = getattr(tenant, relation).setdefault(group_id, {})
            for pid in ids:
                target[pid] = None
                if relation == "members":
                    tenant.record("groups", group_id, "updated", member_added=pid)


def _seed_assignments(tenant: Tenant, body: dict[str, Any]) -> None:
    for obj in _objects(body, "appRoleAssignments"):
        found = tenant.directory_object(obj.get("principalId", ""))
        resource = tenant.service_principals.get(obj.get("resourceId", ""), {})
        full = {
            "deletedDateTime": None,
            "appRoleId": shapes.DEFAULT_APP_ROLE,
            "createdDateTime": tenant.stamp(),
            "principalDisplayName": found[1].get("displayName") if found else None,
            "principalType": shapes.PRINCIPAL_TYPES[found[0]] if found else "User",
            "resourceDisplayName": resource.get("displayName"),
            **obj,
        }
        tenant.app_role_assignments[obj["id"]] = full


def dump(tenant: Tenant) -> dict[str, Any]:
    """Everything in the tenant, as Graph JSON keyed by collection (plugins merged in)."""
    state: dict[str, Any] = {
        "now": tenant.now.isoformat().replace("+00:00", "Z"),
        "users": list(tenant.users.values()),
        "servicePrincipals": list(tenant.service_principals.values()),
        "groups": list(tenant.groups.values()),
        "appRoleAssignments": list(tenant.app_role_assignments.values()),
        "members": {g: list(m) for g, m in tenant.members.items()},
        "owners": {g: list(m) for g, m in tenant.owners.items()},
        "deletedItems": list(tenant.deleted.values()),
        "directoryAudits": list(tenant.audits),
    }
    for plugin in tenant.plugins.values():
        state.update(plugin.dump())
    return state

"""The applications backend: service principals and app role assignments, with Graph's rules.

Why separate from groups: an app role assignment joins a principal (user, group, service principal)
to a resource service principal, with its own id format, duplicate rule and default role.
"""

from __future__ import annotations

from typing import Any

from graphsim.directory import audit, shapes
from graphsim.directory.backend import DirectoryBackend, missing
from graphsim.directory.validate import ASSIGNMENT_WRITABLE, SP_WRITABLE, bad, check_properties, is_guid
from graphsim.errors import GraphError
from graphsim.state import Tenant

SP_TYPE = "microsoft.graph.servicePrincipal"
_READ_ONLY = {"id", "appId", "appDisplayName", "appOwnerOrganizationId", "servicePrincipalType"}


class AppsBackend:
    """Service principals and the app role assignments granted on them."""

    def __init__(self, tenant: Tenant, directory: DirectoryBackend) -> None:
        self.tenant = tenant
        self.directory = directory

    # -- service principals --------------------------------------------------------------------
    def list_service_principals(self) -> list[dict[str, Any]]:
        """Every visible service principal."""
        visible = self.tenant.visible
        return [
            sp
            for sp in self.tenant.service_principals.values()
            if not self.tenant.hidden_until or visible(sp["id"])
        ]

    def service_principal(self, key: str) -> dict[str, Any]:
        """A service principal by id, or Graph's 404."""
        sp = self.tenant.service_principals.get(key)
        if sp is None or not self.tenant.visible(key):
            raise missing(key)
        return sp

    def by_app_id(self, app_id: str) -> dict[str, Any]:
        """A service principal by its alternate key appId, or Graph's 404."""
        for sp in self.tenant.service_principals.values():
            if str(sp.get("appId", "")).lower() == app_id.lower() and self.tenant.visible(sp["id"]):
                return sp
        raise missing(app_id)

    def update_service_principal(self, sp_id: str, body: Any) -> None:
        """PATCH: appRoleAssignmentRequired, tags, customSecurityAttributes and other writable props."""
        sp = self.service_principal(sp_id)
        for key in _READ_ONLY & set(body if isinstance(body, dict) else {}):
            raise bad(f"Property '{key}' is read-only and cannot be set.", "BadRequest")
        body = check_properties(body, SP_WRITABLE, SP_TYPE)
        if "appRoleAssignmentRequired" in body and body["appRoleAssignmentRequired"] is None:
            raise bad(
                "Invalid value specified for property 'appRoleAssignmentRequired' of resource "
                "'ServicePrincipal'."
            )
        changed: set[str] = set()
        for key, value in body.items():
            if key == "@odata.type":
                continue
            new = merge_attributes(sp.get(key) or {}, value) if key == "customSecurityAttributes" else value
            if sp.get(key) != new:
                sp[key] = new
                changed.add(key)
        if changed:
            self.tenant.record("servicePrincipals", sp_id, "updated", props=frozenset(changed))

    def delete_service_principal(self, sp_id: str) -> None:
        """Soft-delete a service principal (delta reports @removed reason changed)."""
        sp = self.service_principal(sp_id)
        del self.tenant.service_principals[sp_id]
        sp["deletedDateTime"] = self.tenant.stamp()
        self.tenant.deleted[sp_id] = sp
        for key, assignment in list(self.tenant.app_role_assignments.items()):
            if sp_id in (assignment["resourceId"], assignment["principalId"]):
                del self.tenant.app_role_assignments[key]
        self.tenant.record("servicePrincipals", sp_id, "deleted")

    # -- app role assignments ------------------------------------------------------------------
    def assignments_to(self, sp_id: str) -> list[dict[str, Any]]:
        """appRoleAssignedTo: assignments granted on this resource service principal."""
        self.service_principal(sp_id)
        return [
            a
            for a in self.tenant.app_role_assignments.values()
            if a["resourceId"] == sp_id and self.tenant.visible(a["id"])
        ]

    def assign(self, sp_id: str, body: Any) -> dict[str, Any]:
        """POST appRoleAssignedTo: validate the principal, role and duplicates, then grant."""
        sp = self.service_principal(sp_id)
        body = check_properties(body, ASSIGNMENT_WRITABLE, "microsoft.graph.appRoleAssignment")
        for prop in ("principalId", "resourceId", "appRoleId"):
            if not is_guid(body.get(prop)):
                raise bad(f"Invalid value specified for property '{prop}' of resource 'AppRoleAssignment'.")
        if body["resourceId"].lower() != sp_id.lower():
            raise bad("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.")
        principal_id, role_id = body["principalId"].lower(), body["appRoleId"].lower()
        found = self.tenant.directory_object(principal_id)
        if found is None or not self.tenant.visible(principal_id):
            raise missing(principal_id)
        self._check_role(sp, role_id)
        if any(
            a["principalId"] == principal_id and a["resourceId"] == sp_id and a["appRoleId"] == role_id
            for a in self.tenant.app_role_assignments.values()
        ):
            raise bad("Permission being assigned already exists on the object")
        assignment = self._new_assignment(sp, found, role_id)
        self._audit("Add", assignment)
        return assignment

    def _check_role(self, sp: dict[str, Any], role_id: str) -> None:
        # appRoleAssignment.appRoleId: Default Access only "if the resource application has not
        # declared any app roles"; a declared role must be enabled to be assigned.
        declared = sp.get("appRoles") or []
        roles = [r for r in declared if r.get("isEnabled", True)]
        allowed = {str(r.get("id", "")).lower() for r in roles} if declared else {shapes.DEFAULT_APP_ROLE}
        if role_id not in allowed:
            raise bad(f"Permission being assigned was not found on application '{sp.get('appId')}'.")

    def _new_assignment(
        self, sp: dict[str, Any], principal: tuple[str, dict[str, Any]], role_id: str
    ) -> dict[str, Any]:
        kind, obj = principal
        assignment_id = shapes.app_role_assignment_id(obj["id"], self.tenant.rng.randbytes(16))
        assignment = {
            "id": assignment_id,
            "deletedDateTime": None,
            "appRoleId": role_id,
            "createdDateTime": self.tenant.now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
            "principalDisplayName": obj.get("displayName"),
            "principalId": obj["id"],
            "principalType": shapes.PRINCIPAL_TYPES[kind],
            "resourceDisplayName": sp.get("displayName"),
            "resourceId": sp["id"],
        }
        self.tenant.app_role_assignments[assignment_id] = assignment
        self.tenant.hide_new(assignment_id)
        return assignment

    def unassign(self, sp_id: str, assignment_id: str) -> None:
        """DELETE appRoleAssignedTo/{id}."""
        self.service_principal(sp_id)
        assignment = self.tenant.app_role_assignments.get(assignment_id)
        if assignment is None or assignment["resourceId"] != sp_id:
            raise missing(assignment_id)
        del self.tenant.app_role_assignments[assignment_id]
        self._audit("Remove", assignment)

    def _audit(self, verb: str, assignment: dict[str, Any]) -> None:
        kinds = {
            "User": ("user", "UserManagement"),
            "Group": ("group", "GroupManagement"),
            "ServicePrincipal": ("service principal", "ApplicationManagement"),
        }
        noun, category = kinds[assignment["principalType"]]
        preposition = "to" if verb == "Add" else "from"
        activity = f"{verb} app role assignment {preposition} {noun}"
        if assignment["principalType"] == "User":
            activity = f"{verb} app role assignment grant {preposition} user"
        modified = [
            audit.prop("AppRole.Id", None, assignment["appRoleId"]),
            audit.prop("ServicePrincipal.ObjectID", None, assignment["resourceId"]),
        ]
        targets = [
            audit.target(self.tenant, assignment["principalId"], modified),
            audit.target(self.tenant, assignment["resourceId"]),
        ]
        audit.record(self.tenant, activity, category, "Assign" if verb == "Add" else "Unassign", targets)


def merge_attributes(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge a customSecurityAttributes PATCH: per set, per attribute; [] or null removes a value."""
    result = {name: dict(values) for name, values in current.items()}
    for set_name, values in patch.items():
        if not isinstance(values, dict):
            raise GraphError(400, "BadRequest", f"Invalid value for attribute set '{set_name}'.")
        target = result.setdefault(set_name, {})
        for attr, value in values.items():
            if "@odata.type" in attr:
                continue
            if value is None or value == []:
                target.pop(attr, None)
            else:
                target[attr] = value
        target.pop("@odata.type", None)
        if target:
            result[set_name] = {"@odata.type": "#microsoft.graph.customSecurityAttributeValue", **target}
        else:
            result.pop(set_name)
    return result

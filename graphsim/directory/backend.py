"""The directory backend: users, groups, members, owners, audit. Every business rule lives here.

It also implements `graphsim.ports.DirectoryPort`, the only way the PIM backend touches the
directory, so PIM-driven membership shows in members, group delta, the audit log and access checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphsim.directory import audit, shapes
from graphsim.directory.validate import (
    GROUP_WRITABLE,
    bad,
    bind_ids,
    check_group_values,
    check_new_group,
    check_properties,
)
from graphsim.errors import GraphError
from graphsim.state import Tenant

GROUP_TYPE = "microsoft.graph.group"


def missing(object_id: str) -> GraphError:
    """Graph's 404 for a directory object that does not exist (or has not replicated yet)."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of "
        "its queried reference-property objects are not present.",
    )


class DirectoryBackend:
    """Users, groups and their relationships, over a Tenant."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    # -- DirectoryPort -------------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulated clock."""
        return self.tenant.now

    def new_id(self) -> str:
        """A fresh GUID."""
        return self.tenant.new_id()

    def get_group(self, group_id: str) -> dict[str, Any] | None:
        """A visible group's stored JSON, or None."""
        group = self.tenant.groups.get(group_id)
        return group if group is not None and self.tenant.visible(group_id) else None

    def get_directory_object(self, object_id: str) -> dict[str, Any] | None:
        """A visible user, group or service principal with @odata.type, or None."""
        found = self.tenant.directory_object(object_id)
        if found is None or not self.tenant.visible(object_id):
            return None
        return {"@odata.type": shapes.ODATA_TYPES[found[0]], **found[1]}

    def add_member(self, group_id: str, principal_id: str) -> None:
        """Idempotent add to members."""
        self._link("members", group_id, principal_id, strict=False)

    def remove_member(self, group_id: str, principal_id: str) -> None:
        """Idempotent removal from members."""
        self._unlink("members", group_id, principal_id, strict=False)

    def add_owner(self, group_id: str, principal_id: str) -> None:
        """Idempotent add to owners."""
        self._link("owners", group_id, principal_id, strict=False)

    def remove_owner(self, group_id: str, principal_id: str) -> None:
        """Idempotent removal from owners."""
        self._unlink("owners", group_id, principal_id, strict=False)

    def append_audit(self, entry: dict[str, Any]) -> None:
        """Append a directoryAudit entry (id and activityDateTime filled in)."""
        audit.append(self.tenant, entry)

    # -- users ---------------------------------------------------------------------------------
    def get_user(self, key: str) -> dict[str, Any]:
        """A user by id or userPrincipalName."""
        user = self.tenant.users.get(key)
        if user is None:
            low = key.lower()
            user = next(
                (u for u in self.tenant.users.values() if str(u.get("userPrincipalName", "")).lower() == low),
                None,
            )
        if user is None or not self.tenant.visible(user["id"]):
            raise missing(key)
        return user

    def list_users(self) -> list[dict[str, Any]]:
        """Every visible user."""
        return [u for u in self.tenant.users.values() if self.tenant.visible(u["id"])]

    # -- groups --------------------------------------------------------------------------------
    def group(self, group_id: str) -> dict[str, Any]:
        """A visible group or Graph's 404."""
        group = self.get_group(group_id)
        if group is None:
            raise missing(group_id)
        return group

    def group_by_unique_name(self, unique_name: str) -> dict[str, Any] | None:
        """The visible group with this uniqueName (case-insensitive), or None (what reads see)."""
        group = self._holder_of(unique_name)
        return group if group is not None and self.tenant.visible(group["id"]) else None

    def _holder_of(self, unique_name: str) -> dict[str, Any] | None:
        """The group holding this uniqueName, visible to reads or not: Entra enforces an alternate key
        when writing, whatever replication lets reads show."""
        low = unique_name.lower()
        return next(
            (g for g in self.tenant.groups.values() if str(g.get("uniqueName") or "").lower() == low), None
        )

    def list_groups(self) -> list[dict[str, Any]]:
        """Every visible group."""
        return [g for g in self.tenant.groups.values() if self.tenant.visible(g["id"])]

    def create_group(self, body: Any, unique_name: str | None = None) -> dict[str, Any]:
        """Create a group from a POST body (or an upsert body with its uniqueName key)."""
        body = check_new_group(dict(check_properties(body, GROUP_WRITABLE, GROUP_TYPE)))
        if unique_name is not None:
            body["uniqueName"] = unique_name
        self._check_unique(body)
        members, owners = bind_ids(body, "members@odata.bind"), bind_ids(body, "owners@odata.bind")
        for _, ref in members + owners:
            self._referenced(ref)
        group_id = self.tenant.new_id()
        group = shapes.new_group(group_id, body, self.tenant.stamp(), self.tenant.domain)
        self.tenant.groups[group_id] = group
        self.tenant.members[group_id], self.tenant.owners[group_id] = {}, {}
        self.tenant.record("groups", group_id, "created")
        audit.record(
            self.tenant, "Add group", "GroupManagement", "Add", [audit.target(self.tenant, group_id)]
        )
        for _, ref in owners:
            self._link("owners", group_id, ref, strict=False)
        for _, ref in members:
            self._link("members", group_id, ref, strict=False)
        self.tenant.hide_new(group_id)
        return group

    def _check_unique(self, body: dict[str, Any], own_id: str | None = None) -> None:
        unique = body.get("uniqueName")
        if unique:
            other = self._holder_of(unique)
            if other is not None and other["id"] != own_id:
                raise bad("Another object with the same value for property uniqueName already exists.")
        if "Unified" in (body.get("groupTypes") or []):
            nick = str(body.get("mailNickname", "")).lower()
            if any(
                str(g.get("mailNickname", "")).lower() == nick and g["id"] != own_id
                for g in self.tenant.groups.values()
                if "Unified" in g.get("groupTypes", [])
            ):
                raise bad("Another object with the same value for property mailNickname already exists.")

    def update_group(self, group_id: str, body: Any) -> None:
        """PATCH: apply the changed properties (and any @odata.bind members/owners)."""
        self._update(self.group(group_id), body)

    def _update(self, group: dict[str, Any], body: Any) -> None:
        group_id = group["id"]
        body = dict(check_properties(body, GROUP_WRITABLE, GROUP_TYPE))
        check_group_values(body)
        if "isAssignableToRole" in body and body["isAssignableToRole"] != group.get("isAssignableToRole"):
            raise bad("Property 'isAssignableToRole' is read-only and cannot be updated.")
        if "uniqueName" in body and group.get("uniqueName") not in (None, body["uniqueName"]):
            raise bad("Property 'uniqueName' is read-only and cannot be updated once set.")
        self._check_unique({**group, **body}, own_id=group_id)
        members, owners = bind_ids(body, "members@odata.bind"), bind_ids(body, "owners@odata.bind")
        for _, ref in members + owners:
            if self.get_directory_object(ref) is None:
                raise bad("The source resource object or one of the objects being referenced don't exist.")
        changed = {k: v for k, v in body.items() if "@" not in k and group.get(k) != v}
        group.update(changed)
        if changed:
            self.tenant.record("groups", group_id, "updated", props=frozenset(changed))
        for _, ref in owners:
            self._link("owners", group_id, ref, strict=False)
        for _, ref in members:
            self._link("members", group_id, ref, strict=False)

    def upsert_group(
        self, unique_name: str, body: Any, create_if_missing: bool
    ) -> tuple[dict[str, Any], bool]:
        """PATCH /groups(uniqueName=...): (group, created). Without the Prefer header it is an update.

        A key already held is an update (204, group-upsert.md), also while the holder is still hidden
        from reads by replication delay: the key, not what reads show, decides."""
        group = self._holder_of(unique_name)
        if group is not None:
            update = {
                k: v
                for k, v in dict(check_properties(body, GROUP_WRITABLE, GROUP_TYPE)).items()
                if k != "uniqueName" or v == group.get("uniqueName")
            }
            self._update(group, update)
            return group, False
        if not create_if_missing:
            raise missing(unique_name)
        return self.create_group(body, unique_name=unique_name), True

    def delete_group(self, group_id: str) -> None:
        """Soft-delete: the group moves to deleted items (delta reports @removed reason changed)."""
        group = self.group(group_id)
        del self.tenant.groups[group_id]
        group["deletedDateTime"] = self.tenant.stamp()
        self.tenant.deleted[group_id] = group
        self.tenant.members.pop(group_id, None)
        self.tenant.owners.pop(group_id, None)
        for key, assignment in list(self.tenant.app_role_assignments.items()):
            if assignment["principalId"] == group_id:
                del self.tenant.app_role_assignments[key]
        for links in (*self.tenant.members.values(), *self.tenant.owners.values()):
            links.pop(group_id, None)
        self.tenant.record("groups", group_id, "deleted")
        audit.record(
            self.tenant, "Delete group", "GroupManagement", "Delete", [audit.target(self.tenant, group_id)]
        )

    # -- members and owners --------------------------------------------------------------------
    def list_links(self, relation: str, group_id: str) -> list[dict[str, Any]]:
        """A group's members or owners as directoryObjects with @odata.type."""
        self.group(group_id)
        links = getattr(self.tenant, relation).get(group_id, {})
        result = []
        for pid in links:
            found = self.tenant.directory_object(pid)
            if found is not None:
                result.append(shapes.reference(found[0], found[1]))
        return result

    def add_link(self, relation: str, group_id: str, principal_id: str) -> None:
        """POST .../members/$ref or owners/$ref, with Graph's errors."""
        self._link(relation, group_id, principal_id, strict=True)

    def remove_link(self, relation: str, group_id: str, principal_id: str) -> None:
        """DELETE .../members/{id}/$ref or owners/{id}/$ref, with Graph's errors."""
        self._unlink(relation, group_id, principal_id, strict=True)

    def _referenced(self, object_id: str) -> str:
        found = self.tenant.directory_object(object_id)
        if found is None or not self.tenant.visible(object_id):
            raise missing(object_id)
        return found[0]

    def _link(self, relation: str, group_id: str, principal_id: str, *, strict: bool) -> None:
        self.group(group_id)
        self._referenced(principal_id)
        links = getattr(self.tenant, relation).setdefault(group_id, {})
        if principal_id in links:
            if strict:
                raise bad(
                    "One or more added object references already exist for the following "
                    f"modified properties: '{relation}'."
                )
            return
        links[principal_id] = None
        self._changed_link(relation, group_id, principal_id, added=True)

    def _unlink(self, relation: str, group_id: str, principal_id: str, *, strict: bool) -> None:
        self.group(group_id)
        links = getattr(self.tenant, relation).get(group_id, {})
        if principal_id not in links:
            if strict:
                raise GraphError(
                    404,
                    "Request_ResourceNotFound",
                    "One or more removed object references "
                    f"do not exist for the following modified properties: '{relation}'.",
                )
            return
        del links[principal_id]
        self._changed_link(relation, group_id, principal_id, added=False)

    def _changed_link(self, relation: str, group_id: str, principal_id: str, *, added: bool) -> None:
        if relation == "members":
            key = "member_added" if added else "member_removed"
            self.tenant.record("groups", group_id, "updated", **{key: principal_id})
        noun = "member" if relation == "members" else "owner"
        activity = f"Add {noun} to group" if added else f"Remove {noun} from group"
        group = self.tenant.groups[group_id]
        modified = [
            audit.prop("Group.ObjectID", None if added else group_id, group_id if added else None),
            audit.prop(
                "Group.DisplayName",
                None if added else group.get("displayName"),
                group.get("displayName") if added else None,
            ),
        ]
        audit.record(
            self.tenant,
            activity,
            "GroupManagement",
            "Assign" if added else "Unassign",
            [audit.target(self.tenant, principal_id, modified), audit.target(self.tenant, group_id)],
        )

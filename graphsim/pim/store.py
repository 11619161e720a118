"""All PIM state in one place, and the few operations every flow shares.

Membership follows active assignments only (eligibility never touches members/owners): applying an
assignment schedule adds the principal through the DirectoryPort, ending it removes the principal
unless another live assignment still grants the same access.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphsim.errors import GraphError, not_found
from graphsim.pim.audit import ONBOARDED, AuditEvent, AuditWriter
from graphsim.pim.policies import PolicyStore
from graphsim.pim.schedules import KINDS, ScheduleStore, window_of
from graphsim.pim.values import bad_request
from graphsim.ports import DirectoryPort


class PimStore:
    """Policies, schedules, requests, and the port to the directory."""

    def __init__(self, port: DirectoryPort) -> None:
        self.port = port
        self.policies = PolicyStore(port.new_id)
        self.schedules = ScheduleStore()
        self.requests: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.audit = AuditWriter(port)

    def reset(self) -> None:
        """Forget all PIM state."""
        self.policies.reset()
        self.schedules.reset()
        for kind in KINDS:
            self.requests[kind].clear()

    def manageable_group(self, group_id: str) -> dict[str, Any]:
        """The group, if PIM can manage it: it exists, is not dynamic, is not synced from on-premises."""
        group = self.port.get_group(group_id)
        if group is None:
            raise not_found(f"The group '{group_id}' was not found.")
        if "DynamicMembership" in (group.get("groupTypes") or []) or group.get("membershipRule"):
            raise bad_request(
                "Dynamic groups cannot be managed by PIM for Groups.", code="InvalidRoleAssignmentRequest"
            )
        if group.get("onPremisesSyncEnabled"):
            raise bad_request(
                "Groups synchronized from on-premises cannot be managed by PIM for Groups.",
                code="InvalidRoleAssignmentRequest",
            )
        return group

    def onboard(self, group_id: str, initiated_by: str | None) -> None:
        """Onboard the group on first use; writes "Onboarded resource to PIM" once."""
        if self.policies.onboard(group_id):
            self.audit.write(AuditEvent(ONBOARDED, group_id, initiated_by=initiated_by))

    def rules(self, group_id: str, access_id: str) -> dict[str, dict[str, Any]]:
        """The rules in force for this access to the group, by rule id."""
        return {r["id"]: r for r in self.policies.policy_for(group_id, access_id)["rules"]}

    def request(self, kind: str, request_id: str) -> dict[str, Any]:
        """A stored request by id, or 404."""
        found = self.requests[kind].get(request_id)
        if found is None:
            raise not_found(f"The {kind} schedule request '{request_id}' was not found.")
        return found

    def apply(self, schedule: dict[str, Any]) -> None:
        """Give the principal the access an assignment schedule grants."""
        group_id, principal_id = schedule["groupId"], schedule["principalId"]
        if schedule["accessId"] == "member":
            self.port.add_member(group_id, principal_id)
        else:
            self.port.add_owner(group_id, principal_id)
        self.schedules.applied.add(schedule["id"])

    def unapply(self, schedule: dict[str, Any], now: datetime) -> None:
        """Take the access away, unless another live assignment still grants it."""
        key = (schedule["groupId"], schedule["principalId"], schedule["accessId"])
        for other in self.schedules.live["assignment"].values():
            if (
                other["id"] != schedule["id"]
                and (other["groupId"], other["principalId"], other["accessId"]) == key
            ) and window_of(other["scheduleInfo"]).contains(now):
                return
        if schedule["accessId"] == "member":
            self.port.remove_member(key[0], key[1])
        else:
            self.port.remove_owner(key[0], key[1])

    def principal_exists(self, principal_id: str) -> None:
        """404 unless the principal is a directory object."""
        if self.port.get_directory_object(principal_id) is None:
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{principal_id}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )

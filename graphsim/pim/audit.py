"""Directory audit entries for PIM for Groups, shaped like the ones Entra writes.

loggedByService "PIM", category "GroupManagement", and the official activity names from
MicrosoftDocs/entra-docs reference-audit-activities.md (PIM section), which say "role" even for
groups. Targets are the group (type "Group") and the principal (type "User" / "Group" /
"ServicePrincipal"); justification, ticket and request id go to additionalDetails. Without a
delegated user (`x-graphsim-user`) the initiator is the app the JWT bearer token names, else MS-PIM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphsim.directory.audit import CALLER
from graphsim.pim.values import format_stamp
from graphsim.ports import DirectoryPort

ACTIVATION_REQUESTED = "Add member to role requested (PIM activation)"
ACTIVATION_APPROVAL_REQUESTED = "Add member to role approval requested (PIM activation)"
ACTIVATION_APPROVED = "Add member to role request approved (PIM activation)"
ACTIVATION_DENIED = "Add member to role request denied (PIM activation)"
ACTIVATION_COMPLETED = "Add member to role completed (PIM activation)"
ACTIVATION_CANCELED = "Add member to role canceled (PIM activation)"
ACTIVATION_REQUEST_EXPIRED = "PIM activation request expired"
DEACTIVATION_REQUESTED = "Remove member from role requested (PIM deactivate)"
DEACTIVATION_COMPLETED = "Remove member from role completed (PIM deactivate)"
ACTIVATION_EXPIRED = "Remove member from role (PIM activation expired)"
SETTING_UPDATED = "Update role setting in PIM"
ONBOARDED = "Onboarded resource to PIM"

_TYPES = {
    "#microsoft.graph.user": "User",
    "#microsoft.graph.group": "Group",
    "#microsoft.graph.servicePrincipal": "ServicePrincipal",
}


def admin_activity(kind: str, action: str, stage: str, timebound: bool) -> str:
    """Activity name for an admin request ('eligibility'|'assignment', action, 'requested'|'completed')."""
    subject = "eligible member" if kind == "eligibility" else "member"
    span = "timebound" if timebound else "permanent"
    if action in ("adminRemove", "selfDeactivate"):
        return f"Remove {subject} from role in PIM {stage} ({span})"
    if action in ("adminExtend", "adminUpdate"):
        noun = "eligible member" if kind == "eligibility" else "member"
        return f"Update {noun} in PIM requested (extend)"
    suffix = "renew" if action == "adminRenew" else span
    return f"Add {subject} to role in PIM {stage} ({suffix})"


@dataclass
class AuditEvent:
    """What happened, to which group and principal, by whom; rendered into a directoryAudit."""

    activity: str
    group_id: str
    principal_id: str | None = None
    initiated_by: str | None = None
    details: dict[str, str | None] = field(default_factory=dict)
    correlation_id: str | None = None
    result: str = "success"


class AuditWriter:
    """Turns AuditEvents into directoryAudit JSON and appends them through the port."""

    def __init__(self, port: DirectoryPort) -> None:
        self._port = port

    def write(self, event: AuditEvent) -> None:
        """Append one directoryAudit entry for `event`."""
        targets = [self._target(event.group_id, "Group")]
        if event.principal_id:
            targets.append(self._target(event.principal_id, None))
        operation = "Unassign" if event.activity.startswith("Remove") else "Assign"
        if event.activity in (SETTING_UPDATED, ONBOARDED):
            operation = "Update" if event.activity == SETTING_UPDATED else "Add"
        self._port.append_audit(
            {
                "id": self._port.new_id(),
                "category": "GroupManagement",
                "correlationId": event.correlation_id or self._port.new_id(),
                "result": event.result,
                "resultReason": "",
                "activityDisplayName": event.activity,
                "activityDateTime": format_stamp(self._port.now()),
                "loggedByService": "PIM",
                "operationType": operation,
                "initiatedBy": self._initiator(event.initiated_by),
                "targetResources": targets,
                "additionalDetails": [{"key": k, "value": v} for k, v in event.details.items() if v],
            }
        )

    def _target(self, object_id: str, forced: str | None) -> dict[str, Any]:
        obj = self._port.get_directory_object(object_id) or {}
        kind = forced or _TYPES.get(str(obj.get("@odata.type", "")), "User")
        return {
            "id": object_id,
            "displayName": obj.get("displayName"),
            "type": kind,
            "userPrincipalName": obj.get("userPrincipalName"),
            "groupType": None,
            "modifiedProperties": [],
        }

    def _initiator(self, object_id: str | None) -> dict[str, Any]:
        if not object_id and (app := CALLER.get()) is not None:
            return {"user": None, "app": dict(app)}
        if not object_id:
            return {
                "user": None,
                "app": {
                    "appId": None,
                    "displayName": "MS-PIM",
                    "servicePrincipalId": None,
                    "servicePrincipalName": None,
                },
            }
        obj = self._port.get_directory_object(object_id) or {}
        if obj.get("@odata.type") == "#microsoft.graph.servicePrincipal":
            return {
                "user": None,
                "app": {
                    "appId": obj.get("appId"),
                    "displayName": obj.get("displayName"),
                    "servicePrincipalId": object_id,
                    "servicePrincipalName": obj.get("displayName"),
                },
            }
        return {
            "user": {
                "id": object_id,
                "displayName": obj.get("displayName"),
                "userPrincipalName": obj.get("userPrincipalName"),
                "ipAddress": None,
            },
            "app": None,
        }

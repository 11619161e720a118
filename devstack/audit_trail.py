"""Does every Graph write that took effect have an audit row? Matches graphsim's request log (writes
marked `landed`, with the ids their bodies named) against the engine's audit rows, by what was
written (event name) and the object it was written to (a group id, a service principal id, or
group/principal for eligibility and membership)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.storage import AuditEvent
from shared.storage.audit import PENDING

Key = tuple[str, str]
_POLICY = re.compile(r"^/policies/roleManagementPolicies/Group_([0-9a-f-]{36})_", re.I)
_UPSERT = re.compile(r"^/groups\(uniqueName='([^']+)'\)$", re.I)
_GROUP = re.compile(r"^/groups/([0-9a-f-]{36})$", re.I)
_MEMBER = re.compile(r"^/groups/([0-9a-f-]{36})/members/([0-9a-f-]{36})/\$ref$", re.I)
_SP = re.compile(r"^/servicePrincipals/([0-9a-f-]{36})$", re.I)
_ASSIGN = re.compile(r"^/servicePrincipals/([0-9a-f-]{36})/appRoleAssignedTo$", re.I)
_UNASSIGN = re.compile(r"^/servicePrincipals/([0-9a-f-]{36})/appRoleAssignedTo/[^/]+$", re.I)
_SCHEDULE = {"adminAssign": "EligibilityGranted", "adminRemove": "EligibilityRemoved",
             "adminExtend": "EligibilityUpdated", "adminUpdate": "EligibilityUpdated"}
FINAL = frozenset({"applied", "already done", "not_applied"})


@dataclass(frozen=True)
class TrailCheck:
    landed: int  # Graph writes that took effect
    missing: tuple[Key, ...]  # ... of which no audit row records the object and kind
    unmapped: tuple[str, ...]  # landed writes this check cannot attribute (should be none)
    pending: int  # audit rows still pending
    not_final: int  # action rows with an outcome other than a final one (failures are final too)


def check_trail(log: Iterable[Mapping[str, Any]], groups: Iterable[Mapping[str, Any]],
                rows: Iterable[AuditEvent]) -> TrailCheck:
    """Compare graphsim's write log with the audit rows (`groups`: graphsim's groups, for uniqueNames)."""
    by_name = {str(g.get("uniqueName")): str(g["id"]) for g in groups if g.get("uniqueName")}
    rows = list(rows)
    recorded = {row_key(r, by_name) for r in rows if r.outcome in FINAL}
    landed = [w for w in log if w.get("landed") and w.get("route") != "$batch"]
    keys = [(w, write_key(w, by_name)) for w in landed]
    missing = tuple(k for _, k in keys if k is not None and k not in recorded)
    unmapped = tuple(f"{w['method']} {w['path']}" for w, k in keys if k is None)
    actions = [r for r in rows if r.action != "DriftDetected" and r.outcome != PENDING]
    not_final = sum(1 for r in actions if r.outcome not in FINAL and not r.outcome.startswith("failed"))
    return TrailCheck(len(landed), missing, unmapped, sum(1 for r in rows if r.outcome == PENDING), not_final)


def write_key(write: Mapping[str, Any], by_name: Mapping[str, str]) -> Key | None:
    """(event name, object) of a landed write, or None when it is not one the engine makes."""
    method, path, ids = write["method"], write["path"], write.get("ids") or {}
    if method == "PATCH" and (m := _UPSERT.match(path)):
        return "GroupCreated", by_name.get(m.group(1), m.group(1))
    if method == "PATCH" and (m := _GROUP.match(path)):
        return "GroupUpdated", m.group(1)
    if method == "PATCH" and (m := _POLICY.match(path)):
        return "PolicyRuleCorrected", m.group(1)
    if method == "PATCH" and (m := _SP.match(path)):
        return "AssignmentRequired", m.group(1)
    if method == "POST" and _ASSIGN.match(path):
        return "GroupAssignedToApp", ids.get("principalId", "")
    schedule = path.lower().endswith("/eligibilityschedulerequests")
    if method == "POST" and schedule and ids.get("action") in _SCHEDULE:
        return _SCHEDULE[ids["action"]], f"{ids.get('groupId')}/{ids.get('principalId')}"
    if method == "DELETE" and (m := _MEMBER.match(path)):
        return "BypassMemberRemoved", f"{m.group(1)}/{m.group(2)}"
    if method == "DELETE" and (m := _UNASSIGN.match(path)):
        return "AppRoleAssignmentRemoved", m.group(1)
    return None


def row_key(row: AuditEvent, by_name: Mapping[str, str]) -> Key:
    """(event name, object) of an audit row, in write_key's terms."""
    head, _, tail = row.target.partition("/")
    group = by_name.get(head, head)
    if row.action in ("PolicyRuleCorrected", "GroupCreated", "GroupAssignedToApp", "GroupUpdated"):
        return row.action, group
    if row.action in ("DirectAssignmentRemoved",) or "AssignmentRemoved" in row.action:
        return "AppRoleAssignmentRemoved", row.app_id
    if tail:
        return row.action, f"{group}/{tail}"
    return row.action, group

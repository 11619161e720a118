"""PimBackend: the one object graphsim's app talks to for PIM for Groups and role management policies.

It holds no HTTP knowledge (routes.py does the parsing and serialising) and touches the directory
only through the DirectoryPort. Reads apply the documented required filters; writes go to the
RequestEngine (schedule requests), the Lifecycle (clock, approvals) or the PolicyStore (rules).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from graphsim.errors import GraphError
from graphsim.pim.audit import SETTING_UPDATED, AuditEvent
from graphsim.pim.enforcement import Caller
from graphsim.pim.engine import RequestEngine
from graphsim.pim.lifecycle import Lifecycle
from graphsim.pim.queries import matches, parse_filter, scope
from graphsim.pim.schedules import window_of
from graphsim.pim.store import PimStore
from graphsim.pim.values import bad_request, format_datetime
from graphsim.ports import DirectoryPort

_SEED_KEYS = {"eligibilitySchedules": "eligibility", "assignmentSchedules": "assignment"}
_REQUEST_KEYS = {"eligibilityScheduleRequests": "eligibility", "assignmentScheduleRequests": "assignment"}


class PimBackend:
    """State and business rules of PIM for Groups and group role management policies."""

    def __init__(self, port: DirectoryPort) -> None:
        self.port = port
        self.store = PimStore(port)
        self.engine = RequestEngine(self.store)
        self.lifecycle = Lifecycle(self.store)

    # -- seam with the app ---------------------------------------------------------------------

    def routes(self) -> list[Any]:
        """The URL table lines this backend serves (graphsim.http.Route)."""
        from graphsim.pim.routes import build_routes

        return build_routes(self)

    def control_routes(self) -> list[Any]:
        """Control-plane routes for the app's /_sim router: POST /_sim/pim/approvals/{approvalId}."""
        from graphsim.pim.routes import build_control_routes

        return build_control_routes(self)

    def reset(self) -> None:
        """Forget all PIM state."""
        self.store.reset()

    def seed(self, data: dict[str, Any]) -> None:
        """Load Graph-shaped collections (ids kept); unknown keys belong to other backends."""
        self.store.policies.seed(
            data.get("roleManagementPolicies") or [], data.get("roleManagementPolicyAssignments") or []
        )
        for key, kind in _SEED_KEYS.items():
            schedules = data.get(key) or []
            self.store.schedules.seed(kind, schedules)
            for schedule in schedules:
                self.store.policies.ensure(schedule["groupId"])
                self.store.policies.onboarded.add(schedule["groupId"])
        for key, kind in _REQUEST_KEYS.items():
            for request in data.get(key) or []:
                self.store.requests[kind][request["id"]] = copy.deepcopy(request)
        self.tick(self.port.now())

    def dump(self) -> dict[str, Any]:
        """Every PIM collection in Graph's JSON."""
        out: dict[str, Any] = self.store.policies.dump()
        for key, kind in _SEED_KEYS.items():
            out[key] = self.store.schedules.dump(kind)
        for key, kind in _REQUEST_KEYS.items():
            out[key] = [copy.deepcopy(r) for r in self.store.requests[kind].values()]
        return out

    def tick(self, now: datetime) -> None:
        """Apply everything the clock moving to `now` causes."""
        self.lifecycle.tick(now)

    def is_active_member(self, group_id: str, principal_id: str, now: datetime) -> bool:
        """True when a PIM assignment (admin or activation) makes the principal a member at `now`."""
        return any(
            s["groupId"] == group_id
            and s["principalId"] == principal_id
            and s["accessId"] == "member"
            and window_of(s["scheduleInfo"]).contains(now)
            for s in self.store.schedules.live["assignment"].values()
        )

    # -- schedule requests, schedules, instances -------------------------------------------------

    def create_request(self, kind: str, body: Any, caller: Caller) -> dict[str, Any]:
        """POST eligibilityScheduleRequests / assignmentScheduleRequests."""
        return self.engine.submit(kind, body, caller)

    def get_request(self, kind: str, request_id: str) -> dict[str, Any]:
        """GET …ScheduleRequests/{id}."""
        return copy.deepcopy(self.store.request(kind, request_id))

    def list_requests(self, kind: str, filter_text: str | None) -> list[dict[str, Any]]:
        """GET …ScheduleRequests?$filter=… (groupId or principalId required)."""
        return self._scoped(list(self.store.requests[kind].values()), filter_text)

    def cancel_request(self, kind: str, request_id: str, caller: Caller) -> None:
        """POST …ScheduleRequests/{id}/cancel."""
        self.lifecycle.cancel(kind, request_id, caller.user_id)

    def list_schedules(self, kind: str, filter_text: str | None) -> list[dict[str, Any]]:
        """GET …Schedules?$filter=…."""
        return self._scoped(list(self.store.schedules.live[kind].values()), filter_text)

    def get_schedule(self, kind: str, schedule_id: str) -> dict[str, Any]:
        """GET …Schedules/{id}."""
        return copy.deepcopy(self.store.schedules.get(kind, schedule_id))

    def list_instances(self, kind: str, filter_text: str | None) -> list[dict[str, Any]]:
        """GET …ScheduleInstances?$filter=… (in effect now)."""
        return self._scoped(self.store.schedules.instances(kind, self.port.now()), filter_text)

    def get_instance(self, kind: str, instance_id: str) -> dict[str, Any]:
        """GET …ScheduleInstances/{id}."""
        return self.store.schedules.instance(kind, instance_id, self.port.now())

    def decide_approval(
        self, approval_id: str, approve: bool, reviewer: str | None, justification: str | None = None
    ) -> dict[str, Any]:
        """Approve or deny a PendingApproval activation."""
        return self.lifecycle.decide(approval_id, approve, reviewer, justification)

    def get_approval(self, approval_id: str) -> dict[str, Any]:
        """GET assignmentApprovals/{id}: one stage per approval."""
        record = next(
            (r for r in self.store.requests["assignment"].values() if r.get("approvalId") == approval_id),
            None,
        )
        if record is None:
            raise GraphError(404, "Request_ResourceNotFound", f"The approval '{approval_id}' was not found.")
        done = record["status"] != "PendingApproval"
        result = {"Provisioned": "Approve", "Denied": "Deny"}.get(record["status"], "NotReviewed")
        return {
            "id": approval_id,
            "stages": [
                {
                    "id": approval_id,
                    "assignedToMe": not done,
                    "displayName": None,
                    "justification": None,
                    "reviewedBy": None,
                    "reviewedDateTime": record["completedDateTime"] if done else None,
                    "reviewResult": result,
                    "status": "Completed" if done else "InProgress",
                }
            ],
        }

    def _scoped(self, items: list[dict[str, Any]], filter_text: str | None) -> list[dict[str, Any]]:
        clauses = parse_filter(filter_text)
        if scope(clauses, "groupId") is None and scope(clauses, "principalId") is None:
            raise bad_request(
                "The $filter must scope the request to a groupId or a principalId "
                "(e.g. $filter=groupId eq '{groupId}')."
            )
        return [copy.deepcopy(item) for item in items if matches(clauses, item)]

    # -- role management policies -----------------------------------------------------------

    def list_policy_assignments(self, filter_text: str | None) -> list[dict[str, Any]]:
        """GET /policies/roleManagementPolicyAssignments?$filter=scopeId … and scopeType eq 'Group'."""
        clauses, group_id = self._policy_scope(filter_text)
        if group_id is None or not self.port.policies_listed(group_id):
            return []  # a group created moments ago: its policy assignments are not listed yet
        ids = self.store.policies.ensure(group_id)
        found = [self.store.policies.assignments[f"{pid}_{role}"] for role, pid in ids.items()]
        return [copy.deepcopy(a) for a in found if matches(clauses, a)]

    def get_policy_assignment(self, assignment_id: str) -> dict[str, Any]:
        """GET /policies/roleManagementPolicyAssignments/{id}."""
        return copy.deepcopy(self.store.policies.get_assignment(assignment_id))

    def list_policies(self, filter_text: str | None) -> list[dict[str, Any]]:
        """GET /policies/roleManagementPolicies?$filter=scopeId … and scopeType eq 'Group'."""
        clauses, group_id = self._policy_scope(filter_text)
        if group_id is None:
            return []
        policies = [
            self.store.policies.policies[pid] for pid in self.store.policies.ensure(group_id).values()
        ]
        return [copy.deepcopy(p) for p in policies if matches(clauses, p)]

    def get_policy(self, policy_id: str) -> dict[str, Any]:
        """GET /policies/roleManagementPolicies/{id} (rules included; routes drop them unless expanded)."""
        return copy.deepcopy(self.store.policies.get(policy_id))

    def get_rule(self, policy_id: str, rule_id: str) -> dict[str, Any]:
        """GET …/rules/{ruleId}."""
        rule = next((r for r in self.store.policies.get(policy_id)["rules"] if r["id"] == rule_id), None)
        if rule is None:
            raise GraphError(404, "Request_ResourceNotFound", f"The rule '{rule_id}' was not found.")
        return copy.deepcopy(rule)

    def update_rules(self, policy_id: str, bodies: dict[str, Any], caller: Caller) -> str:
        """PATCH one or more rules; onboards the group first if needed. Returns the policy id in force."""
        policy = self.store.policies.get(policy_id)
        group_id, role = policy["scopeId"], self.store.policies.role_of(policy_id)
        who = self._modifier(caller)
        now = format_datetime(self.port.now()) or ""
        self.store.policies.patch_rules(policy_id, bodies, who, now, dry_run=True)
        if group_id not in self.store.policies.onboarded:
            self.store.manageable_group(group_id)
            self.store.onboard(group_id, caller.user_id)
            policy_id = self.store.policies.policy_for(group_id, role)["id"]
        self.store.policies.patch_rules(policy_id, bodies, who, now)
        self.store.audit.write(
            AuditEvent(
                SETTING_UPDATED,
                group_id,
                None,
                caller.user_id,
                {"RoleDefinitionId": role, "PolicyId": policy_id, "Rules": ",".join(bodies)},
            )
        )
        return policy_id

    def _modifier(self, caller: Caller) -> dict[str, Any]:
        obj = self.port.get_directory_object(caller.user_id) if caller.user_id else None
        return {"displayName": (obj or {}).get("displayName"), "id": None}

    def _policy_scope(self, filter_text: str | None) -> tuple[list[Any], str | None]:
        clauses = parse_filter(filter_text)
        scope_id, scope_type = scope(clauses, "scopeId"), scope(clauses, "scopeType")
        if scope_id is None or scope_type is None:
            raise bad_request(
                "The $filter must scope the request with scopeId and scopeType "
                "(e.g. scopeId eq '{groupId}' and scopeType eq 'Group')."
            )
        if scope_type.lower() != "group":
            raise GraphError(
                501, "NotImplemented", "graphsim serves role management policies for PIM for Groups only."
            )
        group = self.port.get_group(scope_id)
        manageable = group is not None and "DynamicMembership" not in (group.get("groupTypes") or [])
        return clauses, scope_id if manageable else None

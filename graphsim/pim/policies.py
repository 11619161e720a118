"""Role management policies and policy assignments of groups, and PIM onboarding.

Graph serves a member and an owner policy for every group that could be PIM-managed, even before
it is. The first schedule request or policy update onboards the group: from then on both policies
and both policy assignments have NEW ids (`Group_{groupId}_{guid}`, assignment id
`{policyId}_{member|owner}`); the old ids answer 404 (privilegedidentitymanagement-for-groups-api-
overview.md, "Onboarding groups to PIM for Groups"). A group cannot be offboarded. Policies given
to seed() are taken as those of an onboarded group, so documented examples replay with their ids.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from graphsim.errors import not_found
from graphsim.pim.rules import check_mfa_conflict, default_rules, merge_rule
from graphsim.pim.values import bad_request

ROLES = ("member", "owner")


class PolicyStore:
    """Policies (with their rules) and policy assignments, keyed by id; onboarding state per group."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self.policies: dict[str, dict[str, Any]] = {}
        self.assignments: dict[str, dict[str, Any]] = {}
        self.onboarded: set[str] = set()
        self._by_group: dict[str, dict[str, str]] = {}  # group -> role -> policy id

    def reset(self) -> None:
        """Forget every policy and onboarding."""
        self.policies.clear()
        self.assignments.clear()
        self.onboarded.clear()
        self._by_group.clear()

    def ensure(self, group_id: str) -> dict[str, str]:
        """The group's role -> policy id map, creating the default policies on first sight."""
        if group_id not in self._by_group:
            self._create(group_id, {role: default_rules() for role in ROLES})
        return self._by_group[group_id]

    def onboard(self, group_id: str) -> bool:
        """Bring the group under PIM: re-create its policies under new ids. True if it was new."""
        current = self.ensure(group_id)
        if group_id in self.onboarded:
            return False
        rules = {role: self.policies[pid]["rules"] for role, pid in current.items()}
        for role, pid in current.items():
            del self.policies[pid]
            del self.assignments[f"{pid}_{role}"]
        self._create(group_id, rules)
        self.onboarded.add(group_id)
        return True

    def policy_for(self, group_id: str, role: str) -> dict[str, Any]:
        """The policy in force for `role` ('member'|'owner') of the group."""
        return self.policies[self.ensure(group_id)[role]]

    def rule(self, group_id: str, role: str, rule_id: str) -> dict[str, Any]:
        """One rule of the policy in force."""
        return next(r for r in self.policy_for(group_id, role)["rules"] if r["id"] == rule_id)

    def get(self, policy_id: str) -> dict[str, Any]:
        """A policy by id, or 404."""
        policy = self.policies.get(policy_id)
        if policy is None:
            raise not_found(f"The policy '{policy_id}' was not found.")
        return policy

    def get_assignment(self, assignment_id: str) -> dict[str, Any]:
        """A policy assignment by id, or 404."""
        found = self.assignments.get(assignment_id)
        if found is None:
            raise not_found(f"The policy assignment '{assignment_id}' was not found.")
        return found

    def role_of(self, policy_id: str) -> str:
        """'member' or 'owner' for a policy id."""
        group_id = self.get(policy_id)["scopeId"]
        return next(role for role, pid in self._by_group[group_id].items() if pid == policy_id)

    def patch_rules(
        self, policy_id: str, bodies: dict[str, Any], who: dict[str, Any], now: str, dry_run: bool = False
    ) -> None:
        """Validate every rule body first, then apply them all (atomic), stamping lastModified."""
        policy = self.get(policy_id)
        rules = {r["id"]: r for r in policy["rules"]}
        merged = dict(rules)
        for rule_id, body in bodies.items():
            if rule_id not in rules:
                raise not_found(f"The rule '{rule_id}' was not found in policy '{policy_id}'.")
            merged[rule_id] = merge_rule(rules[rule_id], body, rule_id)
        check_mfa_conflict(merged, set(bodies))
        if dry_run:
            return
        policy["rules"] = [merged[r["id"]] for r in policy["rules"]]
        policy["lastModifiedDateTime"] = now
        policy["lastModifiedBy"] = who

    def seed(self, policies: list[Any], assignments: list[Any]) -> None:
        """Load Graph-shaped policies (with rules) and policy assignments; their groups count as onboarded."""
        for policy in policies:
            if not isinstance(policy, dict) or "id" not in policy:
                raise bad_request("Each roleManagementPolicy needs an id.")
            stored = copy.deepcopy(policy)
            stored.setdefault("rules", default_rules())
            self.policies[policy["id"]] = stored
        for assignment in assignments:
            if not isinstance(assignment, dict) or "id" not in assignment:
                raise bad_request("Each roleManagementPolicyAssignment needs an id.")
            group_id, role = assignment["scopeId"], assignment["roleDefinitionId"]
            self.assignments[assignment["id"]] = copy.deepcopy(assignment)
            self._by_group.setdefault(group_id, {})[role] = assignment["policyId"]
            self.onboarded.add(group_id)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Policies and assignments of onboarded groups, in Graph's JSON."""
        pids = {pid for g in self.onboarded for pid in self._by_group.get(g, {}).values()}
        return {
            "roleManagementPolicies": [copy.deepcopy(p) for i, p in self.policies.items() if i in pids],
            "roleManagementPolicyAssignments": [
                copy.deepcopy(a) for a in self.assignments.values() if a["policyId"] in pids
            ],
        }

    def _create(self, group_id: str, rules: dict[str, list[dict[str, Any]]]) -> None:
        self._by_group[group_id] = {}
        for role in ROLES:
            pid = f"Group_{group_id}_{self._new_id()}"
            self.policies[pid] = {
                "id": pid,
                "displayName": "Group",
                "description": "Group",
                "isOrganizationDefault": False,
                "scopeId": group_id,
                "scopeType": "Group",
                "lastModifiedDateTime": None,
                "lastModifiedBy": {"displayName": None, "id": None},
                "rules": copy.deepcopy(rules[role]),
            }
            self.assignments[f"{pid}_{role}"] = {
                "id": f"{pid}_{role}",
                "policyId": pid,
                "scopeId": group_id,
                "scopeType": "Group",
                "roleDefinitionId": role,
            }
            self._by_group[group_id][role] = pid

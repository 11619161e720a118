"""Application permissions as Microsoft Graph enforces them on app-only tokens: one rule per route.

Each rule names the API page (under api-reference/v1.0/api/ in microsoftgraph/microsoft-graph-docs-contrib)
whose "Permissions" table, Application row, it copies: the least privileged permission and the higher
privileged ones the page lists all pass; "A and B" rows need both. A route without a rule is refused,
so a new route cannot silently skip authorization. `Application.ReadWrite.OwnedBy` is listed by the
service principal pages but only covers objects the caller owns; graphsim models no such ownership, so
it never passes here (the safer reading for a product that must not rely on it).

Refusals use the body each API family answers with (see graphsim/README.md, "Permissions"):
directory objects 403 `Authorization_RequestDenied`; PIM and role management policies 403
`UnknownError` wrapping `PermissionScopeNotGranted`; audit logs 403 `Authentication_MSGraphPermissionMissing`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphsim.errors import GraphError
from graphsim.http import Route, SimRequest, SimResponse

PIM = "/identityGovernance/privilegedAccess/group"
CUSTOM_SECURITY_ATTRIBUTES = "customSecurityAttributes"
# servicePrincipal resource / custom security attributes overview: without one of these the property is null
CSA_READERS = frozenset(
    {"CustomSecAttributeAssignment.Read.All", "CustomSecAttributeAssignment.ReadWrite.All"}
)
ROLE_ASSIGNABLE_NEEDS = "RoleManagement.ReadWrite.Directory"  # group-post-groups: isAssignableToRole


class Family(StrEnum):
    DIRECTORY = "directory"
    PIM = "pim"
    AUDIT = "audit"


@dataclass(frozen=True)
class Rule:
    doc: str  # the API page the permissions come from
    accepted: tuple[frozenset[str], ...]  # any one set passes; every permission of that set is needed
    family: Family = Family.DIRECTORY
    role_assignable_needs: str | None = None  # also needed when the body creates a role-assignable group

    def names(self) -> list[str]:
        """Every permission the rule mentions, least privileged first (for messages and docs)."""
        seen: dict[str, None] = {}
        for option in self.accepted:
            seen.update(dict.fromkeys(sorted(option)))
        return list(seen)


def any_of(*names: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset({n}) for n in names)


def all_of(*names: str) -> frozenset[str]:
    return frozenset(names)


_SP_READ = any_of("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All")
_GROUP_GET = any_of(
    "GroupMember.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Group.Read.All",
)
_GROUP_LIST = any_of(
    "Group-NestingSupport.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Group.ManageProtection.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
)
_LINKS_READ = any_of(
    "GroupMember.Read.All",
    "Directory.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
)
_LINKS_WRITE = any_of("GroupMember.ReadWrite.All", "Directory.ReadWrite.All", "Group.ReadWrite.All")
_USER_READ = any_of("User.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "User.ReadWrite.All")
_POLICY_READ = any_of("RoleManagementPolicy.Read.AzureADGroup", "RoleManagementPolicy.ReadWrite.AzureADGroup")
_POLICY_WRITE = any_of("RoleManagementPolicy.ReadWrite.AzureADGroup")
_AUDIT = (all_of("AuditLog.Read.All", "Directory.Read.All"),)


def _pim_rules(kind: str, schedule: str) -> dict[tuple[str, str], Rule]:
    """eligibility/assignment: requests need ReadWrite (no Read variant for applications), schedules and
    instances accept Read; the PrivilegedAccess.*.AzureADGroup scopes are the ones Graph's own 403 names."""
    read_write = f"{schedule}.ReadWrite.AzureADGroup"
    reads = any_of(
        f"{schedule}.Read.AzureADGroup",
        read_write,
        "PrivilegedAccess.Read.AzureADGroup",
        "PrivilegedAccess.ReadWrite.AzureADGroup",
    )
    writes = any_of(read_write, f"{schedule}.Remove.AzureADGroup")
    page = "privilegedaccessgroup"
    item = f"privilegedaccessgroup{kind.lower()}"
    base = f"{PIM}/{kind}"
    return {
        ("POST", f"{base}ScheduleRequests"): Rule(
            f"{page}-post-{kind.lower()}schedulerequests.md", writes, Family.PIM
        ),
        ("GET", f"{base}ScheduleRequests"): Rule(
            f"{page}-list-{kind.lower()}schedulerequests.md", any_of(read_write), Family.PIM
        ),
        ("GET", f"{base}ScheduleRequests/{{id}}"): Rule(
            f"{item}schedulerequest-get.md", any_of(read_write), Family.PIM
        ),
        ("POST", f"{base}ScheduleRequests/{{id}}/cancel"): Rule(
            f"{item}schedulerequest-cancel.md", any_of(read_write), Family.PIM
        ),
        ("GET", f"{base}Schedules"): Rule(f"{page}-list-{kind.lower()}schedules.md", reads, Family.PIM),
        ("GET", f"{base}Schedules/{{id}}"): Rule(f"{item}schedule-get.md", reads, Family.PIM),
        ("GET", f"{base}ScheduleInstances"): Rule(
            f"{page}-list-{kind.lower()}scheduleinstances.md", reads, Family.PIM
        ),
        ("GET", f"{base}ScheduleInstances/{{id}}"): Rule(f"{item}scheduleinstance-get.md", reads, Family.PIM),
    }


RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/servicePrincipals"): Rule("serviceprincipal-list.md", _SP_READ),
    ("GET", "/servicePrincipals/$count"): Rule("serviceprincipal-list.md", _SP_READ),
    # the page lists Application.ReadWrite.OwnedBy, Application.ReadWrite.All, Directory.Read.All:
    # no Application.Read.All
    ("GET", "/servicePrincipals/delta"): Rule(
        "serviceprincipal-delta.md", any_of("Application.ReadWrite.All", "Directory.Read.All")
    ),
    ("GET", "/servicePrincipals/{id}"): Rule("serviceprincipal-get.md", _SP_READ),
    ("PATCH", "/servicePrincipals/{id}"): Rule(
        "serviceprincipal-update.md", any_of("Application.ReadWrite.All", "Directory.ReadWrite.All")
    ),
    ("DELETE", "/servicePrincipals/{id}"): Rule(
        "serviceprincipal-delete.md", any_of("Application.ReadWrite.All")
    ),
    ("GET", "/servicePrincipals/{id}/appRoleAssignedTo"): Rule(
        "serviceprincipal-list-approleassignedto.md",
        any_of(
            "Application.Read.All",
            "Directory.Read.All",
            "Application.ReadWrite.All",
            "Directory.ReadWrite.All",
        ),
    ),
    ("POST", "/servicePrincipals/{id}/appRoleAssignedTo"): Rule(
        "serviceprincipal-post-approleassignedto.md",
        (
            all_of("AppRoleAssignment.ReadWrite.All", "Application.Read.All"),
            all_of("AppRoleAssignment.ReadWrite.All", "Directory.Read.All"),
        ),
    ),
    ("DELETE", "/servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}"): Rule(
        "serviceprincipal-delete-approleassignedto.md", any_of("AppRoleAssignment.ReadWrite.All")
    ),
    ("GET", "/groups"): Rule("group-list.md", _GROUP_LIST),
    ("GET", "/groups/$count"): Rule("group-list.md", _GROUP_LIST),
    ("POST", "/groups"): Rule(
        "group-post-groups.md",
        any_of(
            "Group.Create",
            "Directory.ReadWrite.All",
            "Group-PreferredDataLocation.ReadWrite.All",
            "Group.ReadWrite.All",
        ),
        role_assignable_needs=ROLE_ASSIGNABLE_NEEDS,
    ),
    ("GET", "/groups/delta"): Rule("group-delta.md", _GROUP_GET),
    ("GET", "/groups(uniqueName='{key}')"): Rule("group-get.md", _GROUP_GET),
    ("PATCH", "/groups(uniqueName='{key}')"): Rule(
        "group-upsert.md",
        any_of("Group.ReadWrite.All", "Directory.ReadWrite.All"),
        role_assignable_needs=ROLE_ASSIGNABLE_NEEDS,
    ),
    ("GET", "/groups/{id}"): Rule("group-get.md", _GROUP_GET),
    ("PATCH", "/groups/{id}"): Rule(
        "group-update.md",
        any_of(
            "Group-NestingSupport.ReadWrite.All",
            "Directory.ReadWrite.All",
            "Group-PreferredDataLocation.ReadWrite.All",
            "Group.ManageProtection.All",
            "Group.ReadWrite.All",
        ),
    ),
    ("DELETE", "/groups/{id}"): Rule("group-delete.md", any_of("Group.ReadWrite.All")),
    ("GET", "/groups/{id}/members"): Rule("group-list-members.md", _LINKS_READ),
    ("GET", "/groups/{id}/owners"): Rule("group-list-owners.md", _LINKS_READ),
    ("POST", "/groups/{id}/members/$ref"): Rule("group-post-members.md", _LINKS_WRITE),
    ("POST", "/groups/{id}/owners/$ref"): Rule("group-post-owners.md", _LINKS_WRITE),
    ("DELETE", "/groups/{id}/members/{ref}/$ref"): Rule("group-delete-members.md", _LINKS_WRITE),
    ("DELETE", "/groups/{id}/owners/{ref}/$ref"): Rule("group-delete-owners.md", _LINKS_WRITE),
    ("GET", "/users"): Rule("user-list.md", _USER_READ),
    ("GET", "/users/$count"): Rule("user-list.md", _USER_READ),
    ("GET", "/users/{id}"): Rule("user-get.md", _USER_READ),
    ("GET", "/auditLogs/directoryAudits"): Rule("directoryaudit-list.md", _AUDIT, Family.AUDIT),
    ("GET", "/auditLogs/directoryAudits/{id}"): Rule("directoryaudit-get.md", _AUDIT, Family.AUDIT),
    **_pim_rules("eligibility", "PrivilegedEligibilitySchedule"),
    **_pim_rules("assignment", "PrivilegedAssignmentSchedule"),
    # approvalstage-update / approval-get for PIM for Groups: delegated only, "Application: Not supported"
    ("GET", f"{PIM}/assignmentApprovals/{{id}}"): Rule("approval-get.md", (), Family.PIM),
    ("PATCH", f"{PIM}/assignmentApprovals/{{id}}/stages/{{stage}}"): Rule(
        "approvalstage-update.md", (), Family.PIM
    ),
    # "For PIM for groups" tables of each page
    ("GET", "/policies/roleManagementPolicyAssignments"): Rule(
        "policyroot-list-rolemanagementpolicyassignments.md", _POLICY_READ, Family.PIM
    ),
    ("GET", "/policies/roleManagementPolicyAssignments/{id}"): Rule(
        "unifiedrolemanagementpolicyassignment-get.md", _POLICY_READ, Family.PIM
    ),
    ("GET", "/policies/roleManagementPolicies"): Rule(
        "policyroot-list-rolemanagementpolicies.md", _POLICY_READ, Family.PIM
    ),
    ("GET", "/policies/roleManagementPolicies/{id}"): Rule(
        "unifiedrolemanagementpolicy-get.md", _POLICY_READ, Family.PIM
    ),
    ("PATCH", "/policies/roleManagementPolicies/{id}"): Rule(
        "unifiedrolemanagementpolicy-update.md", _POLICY_WRITE, Family.PIM
    ),
    ("GET", "/policies/roleManagementPolicies/{id}/rules"): Rule(
        "unifiedrolemanagementpolicy-list-rules.md", _POLICY_READ, Family.PIM
    ),
    ("GET", "/policies/roleManagementPolicies/{id}/rules/{ruleId}"): Rule(
        "unifiedrolemanagementpolicyrule-get.md", _POLICY_READ, Family.PIM
    ),
    ("PATCH", "/policies/roleManagementPolicies/{id}/rules/{ruleId}"): Rule(
        "unifiedrolemanagementpolicyrule-update.md", _POLICY_WRITE, Family.PIM
    ),
}
NEEDS_NO_RULE = frozenset({"$batch"})  # no permission of its own: each inner request meets its rule


def rule_for(route: Route) -> Rule | None:
    """The rule of a route (OData key forms and `delta()` share the plain form's rule)."""
    template = route.template.replace("(appId='{appId}')", "/{id}").replace("delta()", "delta")
    return RULES.get((route.method, template))


def authorize(route: Route, req: SimRequest, roles: frozenset[str]) -> None:
    """Raise Graph's refusal unless `roles` satisfy the route's documented permissions."""
    if route.template.strip("/") in NEEDS_NO_RULE:
        return
    rule = rule_for(route)
    if rule is None:
        raise GraphError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
    if not any(option <= roles for option in rule.accepted):
        raise refusal(rule, roles)
    if rule.role_assignable_needs and _role_assignable(req.body) and rule.role_assignable_needs not in roles:
        raise refusal(Rule(rule.doc, any_of(rule.role_assignable_needs), rule.family), roles)


def _role_assignable(body: Any) -> bool:
    return isinstance(body, dict) and body.get("isAssignableToRole") is True


def refusal(rule: Rule, roles: frozenset[str]) -> GraphError:
    """The 403 the rule's API family answers with."""
    if rule.family is Family.PIM:
        detail = {
            "errorCode": "PermissionScopeNotGranted",
            "message": f"Authorization failed due to missing permission scope {','.join(rule.names())}.",
            "instanceAnnotations": [],
        }
        return GraphError(403, "UnknownError", json.dumps(detail, separators=(",", ":")))
    if rule.family is Family.AUDIT and "AuditLog.Read.All" not in roles:
        return GraphError(
            403,
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        )
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def redact(route: Route, req: SimRequest, roles: frozenset[str], resp: SimResponse) -> SimResponse:
    """Selected customSecurityAttributes come back null, not refused, without an attribute-reading
    permission; with one, an object without attributes shows `{}` (so null always means "hidden").
    (Delta answers carry no attributes, as graphsim's delta never did.) The stored objects are never
    touched: the answer gets copies."""
    if "/servicePrincipals" not in route.template or not isinstance(resp.body, dict):
        return resp
    shown = bool(roles & CSA_READERS)
    selected = "delta" not in route.template and CUSTOM_SECURITY_ATTRIBUTES.lower() in _select(req)
    body = resp.body
    if isinstance(body.get("value"), list):
        body = {**body, "value": [_attributes(item, shown, selected) for item in body["value"]]}
    else:
        body = _attributes(body, shown, selected)
    return SimResponse(resp.status, body, resp.headers)


def _select(req: SimRequest) -> set[str]:
    return {name.strip().lower() for name in req.params.get("$select", "").split(",")}


def _attributes(item: Any, shown: bool, selected: bool) -> Any:
    if not isinstance(item, dict) or not (selected or CUSTOM_SECURITY_ATTRIBUTES in item):
        return item
    value = item.get(CUSTOM_SECURITY_ATTRIBUTES)
    return {**item, CUSTOM_SECURITY_ATTRIBUTES: (value if value is not None else {}) if shown else None}

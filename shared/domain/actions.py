"""The planner's output: ordered actions (each with a reason), drift findings and report-only notices.

Actions are commands for the executor, named imperatively. Anything that needs a managed group refers
to it by `unique_name`, so the executor can resolve the id after creating (or adopting) the group in
the same run; `group_id` is filled in when the planner already knows it. No action ever makes anyone
an active member: the planner only grants eligibility.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from shared.domain.ids import AppRoleId, GroupId, PolicyId, PrincipalId, ServicePrincipalId, UniqueName
from shared.domain.model import AccessId, AppRoleAssignment, TicketInfo


class ActionKind(StrEnum):
    """Every kind of action, in the order the planner emits them for one app."""

    ENSURE_GROUP = "EnsureGroup"
    UPDATE_GROUP = "UpdateGroup"
    CORRECT_POLICY_RULE = "CorrectPolicyRule"
    ASSIGN_GROUP_TO_APP = "AssignGroupToApp"
    REQUIRE_ASSIGNMENT = "RequireAssignment"
    GRANT_ELIGIBILITY = "GrantEligibility"
    UPDATE_ELIGIBILITY = "UpdateEligibility"
    REMOVE_ELIGIBILITY = "RemoveEligibility"
    REMOVE_BYPASS_MEMBER = "RemoveBypassMember"
    REMOVE_DIRECT_ASSIGNMENT = "RemoveDirectAssignment"
    RECORD_APP_OUT_OF_SCOPE = "RecordAppOutOfScope"
    RECORD_APP_DELETED = "RecordAppDeleted"


@dataclass(frozen=True, kw_only=True)
class Action:
    """Base of all actions: a human-readable reason."""

    kind: ClassVar[ActionKind]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for `plan --json` and the audit record)."""
        return {"kind": self.kind.value} | {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, kw_only=True)
class EnsureGroup(Action):
    """Create the group keyed by `unique_name`, or adopt the one that already has it."""

    kind: ClassVar[ActionKind] = ActionKind.ENSURE_GROUP
    unique_name: UniqueName
    display_name: str
    description: str
    mail_nickname: str
    is_assignable_to_role: bool


@dataclass(frozen=True, kw_only=True)
class UpdateGroup(Action):
    """Set the display name and/or description back (None = leave as is)."""

    kind: ClassVar[ActionKind] = ActionKind.UPDATE_GROUP
    unique_name: UniqueName
    group_id: GroupId
    display_name: str | None
    description: str | None


@dataclass(frozen=True, kw_only=True)
class CorrectPolicyRule(Action):
    """PATCH one rule of the group's member or owner policy with `body`.

    `policy_id` None: the policy is not known yet (new or not onboarded group): the executor reads it
    (again) for the group first; the first rule update onboards the group, which changes policy ids.
    """

    kind: ClassVar[ActionKind] = ActionKind.CORRECT_POLICY_RULE
    unique_name: UniqueName
    access_id: AccessId
    rule_id: str
    body: Mapping[str, Any] = field(hash=False)
    policy_id: PolicyId | None


@dataclass(frozen=True, kw_only=True)
class AssignGroupToApp(Action):
    """Assign the group to the service principal with an app role (`appRoleAssignedTo`)."""

    kind: ClassVar[ActionKind] = ActionKind.ASSIGN_GROUP_TO_APP
    unique_name: UniqueName
    service_principal_id: ServicePrincipalId
    app_role_id: AppRoleId


@dataclass(frozen=True, kw_only=True)
class RequireAssignment(Action):
    """Set `appRoleAssignmentRequired` on the service principal."""

    kind: ClassVar[ActionKind] = ActionKind.REQUIRE_ASSIGNMENT
    service_principal_id: ServicePrincipalId


@dataclass(frozen=True, kw_only=True)
class GrantEligibility(Action):
    """`adminAssign` a member eligibility (never an active assignment). `end` None = permanent."""

    kind: ClassVar[ActionKind] = ActionKind.GRANT_ELIGIBILITY
    unique_name: UniqueName
    principal_id: PrincipalId
    start: datetime
    end: datetime | None
    justification: str
    ticket: TicketInfo | None


class EligibilityChange(StrEnum):
    """Which schedule request action an eligibility update uses."""

    EXTEND = "adminExtend"
    UPDATE = "adminUpdate"


@dataclass(frozen=True, kw_only=True)
class UpdateEligibility(Action):
    """Move an eligibility's end (`adminExtend` to lengthen, `adminUpdate` to shorten)."""

    kind: ClassVar[ActionKind] = ActionKind.UPDATE_ELIGIBILITY
    unique_name: UniqueName
    group_id: GroupId
    principal_id: PrincipalId
    start: datetime
    end: datetime | None
    previous_end: datetime | None
    change: EligibilityChange
    justification: str
    ticket: TicketInfo | None


@dataclass(frozen=True, kw_only=True)
class RemoveEligibility(Action):
    """`adminRemove` a member eligibility (planned only when PIM's five-minute rule allows it)."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_ELIGIBILITY
    unique_name: UniqueName
    group_id: GroupId
    principal_id: PrincipalId
    access_id: AccessId = AccessId.MEMBER


@dataclass(frozen=True, kw_only=True)
class RemoveBypassMember(Action):
    """Remove a group member who has no active PIM assignment (added around PIM)."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_BYPASS_MEMBER
    unique_name: UniqueName
    group_id: GroupId
    principal_id: PrincipalId


@dataclass(frozen=True, kw_only=True)
class RemoveDirectAssignment(Action):
    """Delete an app role assignment that bypasses the groups; `assignment` is what undo re-creates."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_DIRECT_ASSIGNMENT
    service_principal_id: ServicePrincipalId
    assignment: AppRoleAssignment


@dataclass(frozen=True, kw_only=True)
class RecordAppOutOfScope(Action):
    """Mark the app as no longer high-value in our store; its protection stays in place."""

    kind: ClassVar[ActionKind] = ActionKind.RECORD_APP_OUT_OF_SCOPE
    service_principal_id: ServicePrincipalId


@dataclass(frozen=True, kw_only=True)
class RecordAppDeleted(Action):
    """Close the app's record: its service principal is gone; its groups are kept and reported."""

    kind: ClassVar[ActionKind] = ActionKind.RECORD_APP_DELETED
    service_principal_id: ServicePrincipalId
    kept_groups: tuple[UniqueName, ...]


class DriftKind(StrEnum):
    """What was found different from the desired state."""

    GROUP_MISSING = "group_missing"
    GROUP_CHANGED = "group_changed"
    POLICY_RULE_CHANGED = "policy_rule_changed"
    ASSIGNMENT_MISSING = "assignment_missing"
    ASSIGNMENT_NOT_REQUIRED = "assignment_not_required"
    BYPASS_MEMBER = "bypass_member"
    DIRECT_ASSIGNMENT = "direct_assignment"
    ELIGIBILITY_MISSING = "eligibility_missing"
    ELIGIBILITY_CHANGED = "eligibility_changed"
    ELIGIBILITY_EXTRA = "eligibility_extra"
    STANDING_ACCESS = "standing_access"
    UNMANAGED_OWNER = "unmanaged_owner"
    GROUP_SETTINGS = "group_settings"
    DUPLICATE_GROUP = "duplicate_group"


@dataclass(frozen=True)
class Drift:
    """A difference found: what it was, what it should be, and whether this plan sets it back."""

    kind: DriftKind
    subject: str
    found: str
    desired: str
    repaired: bool


@dataclass(frozen=True)
class Plan:
    """Everything the planner decided for one app."""

    service_principal_id: ServicePrincipalId
    actions: tuple[Action, ...] = ()
    drift: tuple[Drift, ...] = ()
    notices: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to do (a converged app)."""
        return not self.actions

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "service_principal_id": self.service_principal_id,
            "actions": [action.to_dict() for action in self.actions],
            "drift": [_plain(d.__dict__) for d in self.drift],
            "notices": list(self.notices),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


_ORDER = {kind: index for index, kind in enumerate(ActionKind)}


@dataclass
class PlanBuilder:
    """Collects actions, drift and notices while planning one app (mutable; the Plan is not)."""

    service_principal_id: ServicePrincipalId
    actions: list[Action] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def finish(self) -> Plan:
        """The plan, actions in dependency order (ActionKind order; stable within a kind)."""
        ordered = sorted(self.actions, key=lambda action: _ORDER[action.kind])
        return Plan(self.service_principal_id, tuple(ordered), tuple(self.drift), tuple(self.notices))

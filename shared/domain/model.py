"""Observed and desired state of one high-value app, as plain frozen data.

This module is the contract between the Graph gateway (which READS Graph into the observed types),
the reconciler (which builds the desired types from settings, profiles and stored grants) and the
planner (which compares the two). Nothing here does I/O. Times are timezone-aware UTC datetimes.
Policy rules stay plain JSON dicts exactly as Graph returns them: the rule diff in `rules.py` knows
which of their properties matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.domain.ids import (
    AppId,
    AppRoleAssignmentId,
    AppRoleId,
    GrantId,
    GroupId,
    PolicyId,
    PrincipalId,
    ServicePrincipalId,
    UniqueName,
)
from shared.domain.profiles import Profile

JsonObject = Mapping[str, Any]


class AccessId(StrEnum):
    """The two PIM for Groups roles on a group: `member` and `owner`."""

    MEMBER = "member"
    OWNER = "owner"


class PrincipalType(StrEnum):
    """`principalType` of an app role assignment."""

    USER = "User"
    GROUP = "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal"
    UNKNOWN = "Unknown"  # Graph named none (or one we do not know): never removed


# Direct assignments exclusive mode may remove: people's access. A service principal's assignment is an
# application permission, which no group can hold, so PIM could never give it back.
REMOVABLE_PRINCIPAL_TYPES = frozenset({PrincipalType.USER, PrincipalType.GROUP})


class AssignmentType(StrEnum):
    """How an active PIM assignment came about: `assigned` by an admin or `activated` by the principal."""

    ASSIGNED = "assigned"
    ACTIVATED = "activated"


class RecordState(StrEnum):
    """What our own store last recorded about the app (so a closing record is written once)."""

    ACTIVE = "active"
    OUT_OF_SCOPE = "out_of_scope"
    DELETED = "deleted"


# ---------------------------------------------------------------------------------------------------
# Observed: what Graph (and our own store) shows now
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppRole:
    """One app role declared by the application, as on `servicePrincipal.appRoles`."""

    id: AppRoleId
    value: str | None
    display_name: str
    allowed_member_types: frozenset[str] = frozenset({"User"})
    is_enabled: bool = True


@dataclass(frozen=True)
class ServicePrincipal:
    """The enterprise application that is protected."""

    id: ServicePrincipalId
    app_id: AppId
    display_name: str
    tags: tuple[str, ...] = ()
    app_roles: tuple[AppRole, ...] = ()
    app_role_assignment_required: bool = False
    custom_security_attributes: JsonObject = field(default_factory=dict, hash=False)
    # Who registered the application and what kind of service principal this is (see manageable.py);
    # None when Graph did not say, which the manageability rule treats as "not an application".
    app_owner_organization_id: str | None = None
    service_principal_type: str | None = "Application"
    # Graph answered customSecurityAttributes with null: without CustomSecAttributeAssignment.Read.All
    # it hides them rather than refusing, so an attribute selector would silently match nothing.
    attributes_hidden: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class ObservedGroup:
    """A managed group as Graph shows it, with its current members and owners."""

    id: GroupId
    unique_name: UniqueName | None
    display_name: str
    description: str | None = None
    mail_nickname: str = ""
    security_enabled: bool = True
    mail_enabled: bool = False
    group_types: tuple[str, ...] = ()
    is_assignable_to_role: bool = False
    member_ids: frozenset[PrincipalId] = frozenset()
    owner_ids: frozenset[PrincipalId] = frozenset()


@dataclass(frozen=True)
class AppRoleAssignment:
    """One entry of `servicePrincipals/{id}/appRoleAssignedTo`: enough to delete it and to undo that."""

    id: AppRoleAssignmentId
    principal_id: PrincipalId
    principal_type: PrincipalType
    app_role_id: AppRoleId
    resource_id: ServicePrincipalId
    principal_display_name: str | None = None


@dataclass(frozen=True)
class ObservedPolicy:
    """The role management policy of one PIM role (member or owner) of a group.

    `rules` maps rule id -> the rule's JSON as Graph returns it (with `@odata.type`, `target`, ...).
    """

    access_id: AccessId
    policy_id: PolicyId
    rules: Mapping[str, JsonObject] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class EligibilityInstance:
    """A principal's current eligibility for a group role.

    `created` is the schedule's `createdDateTime` (instances do not carry it): PIM refuses to remove
    a schedule in its first five minutes, so the planner needs it. None means unknown; the planner
    then uses `start` when it has passed (a start still ahead is no hint: removal goes ahead).
    """

    principal_id: PrincipalId
    group_id: GroupId
    access_id: AccessId
    start: datetime
    end: datetime | None
    created: datetime | None = None


@dataclass(frozen=True)
class ActiveAssignment:
    """An active PIM assignment (admin-assigned or activated) for a group role."""

    principal_id: PrincipalId
    group_id: GroupId
    access_id: AccessId
    start: datetime
    end: datetime | None
    assignment_type: AssignmentType
    created: datetime | None = None

    def is_active_at(self, now: datetime) -> bool:
        """True when the assignment covers `now`."""
        return self.start <= now and (self.end is None or now < self.end)


@dataclass(frozen=True)
class ObservedRole:
    """Everything observed for one protected app role: its group and that group's PIM state.

    `group` is None when no group with the role's uniqueName is visible. `awaiting_replication`
    says we created it recently and Graph does not show it yet (the executor waits; nobody creates a
    second one, since creation is keyed by uniqueName). `recorded_group_id` is the group id our store
    recorded for this role (None before the first onboarding): differences found after that are drift.
    Policies are None when not read (yet). `duplicate_group_ids` are other groups seen with the role's
    uniqueName (the recorded group is the one kept): never more than one group may guard a role.
    """

    app_role_id: AppRoleId
    group: ObservedGroup | None = None
    awaiting_replication: bool = False
    recorded_group_id: GroupId | None = None
    duplicate_group_ids: tuple[GroupId, ...] = ()
    member_policy: ObservedPolicy | None = None
    owner_policy: ObservedPolicy | None = None
    eligibilities: tuple[EligibilityInstance, ...] = ()
    active_assignments: tuple[ActiveAssignment, ...] = ()

    def policy(self, access_id: AccessId) -> ObservedPolicy | None:
        """The observed policy for `member` or `owner`."""
        return self.member_policy if access_id is AccessId.MEMBER else self.owner_policy


@dataclass(frozen=True)
class ObservedApp:
    """One app as observed: the service principal (None when Graph says it is deleted), per
    protected role what Graph shows, every app role assignment on the SP, and our record state.
    `group_names` holds the uniqueName of each other group holding an app role assignment on the SP
    (read so a second group of our naming is told apart from a group someone else assigned)."""

    service_principal_id: ServicePrincipalId
    service_principal: ServicePrincipal | None
    roles: Mapping[AppRoleId, ObservedRole] = field(default_factory=dict, hash=False)
    app_role_assignments: tuple[AppRoleAssignment, ...] = ()
    record_state: RecordState = RecordState.ACTIVE
    group_names: Mapping[PrincipalId, str] = field(default_factory=dict, hash=False)


# ---------------------------------------------------------------------------------------------------
# Desired: what the profile and the open grants say
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketInfo:
    """PIM's `ticketInfo`: the ticket that justifies a change."""

    system: str
    number: str


@dataclass(frozen=True)
class EligibilityGrant:
    """An eligibility grant recorded in Table Storage: who, which app role, until when, why.

    `ends` None means permanent (only honoured if the profile allows permanent eligibility).
    A grant is open when not revoked and `starts <= now < ends`.
    """

    grant_id: GrantId
    principal_id: PrincipalId
    app_role_id: AppRoleId
    starts: datetime
    ends: datetime | None
    justification: str
    ticket: TicketInfo | None = None
    source: str = "operator"
    revoked_at: datetime | None = None

    def is_open_at(self, now: datetime) -> bool:
        """True when the grant is in force at `now`."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.starts <= now and (self.ends is None or now < self.ends)


@dataclass(frozen=True)
class GroupIdentity:
    """The deterministic identity of a managed group (see `naming.py`)."""

    unique_name: UniqueName
    display_name: str
    description: str
    mail_nickname: str


@dataclass(frozen=True)
class DesiredEligibility:
    """The PIM member eligibility one principal should hold: the union of their open grants."""

    principal_id: PrincipalId
    start: datetime
    end: datetime | None
    justification: str
    ticket: TicketInfo | None
    grant_ids: tuple[GrantId, ...]


@dataclass(frozen=True)
class DesiredRole:
    """One protected app role: its group and who should be eligible for membership."""

    app_role_id: AppRoleId
    role_name: str
    group: GroupIdentity
    eligibilities: tuple[DesiredEligibility, ...] = ()


@dataclass(frozen=True)
class DesiredApp:
    """What one high-value app should look like.

    `member_rules` / `owner_rules` map rule id -> exact Graph PATCH body (from `rules.py`).
    `protected_principals` (break-glass accounts) keep their standing access (membership, direct
    assignments): it is reported, never removed. An eligibility no grant covers is removed from them too.
    `trusted_owners` (e.g. PIM Warden's own service principal) are not reported as group owners.
    `notes` carry what building the desired state had to report (capped or ignored grants).
    """

    service_principal_id: ServicePrincipalId
    app_id: AppId
    profile: Profile
    roles: tuple[DesiredRole, ...]
    member_rules: Mapping[str, JsonObject] = field(default_factory=dict, hash=False)
    owner_rules: Mapping[str, JsonObject] = field(default_factory=dict, hash=False)
    in_scope: bool = True
    protected_principals: frozenset[PrincipalId] = frozenset()
    trusted_owners: frozenset[PrincipalId] = frozenset()
    notes: tuple[str, ...] = ()

    @property
    def remove_bypass_members(self) -> bool:
        """Whether members added around PIM are removed (else only reported)."""
        return self.profile.remove_bypass_members

    @property
    def exclusive(self) -> bool:
        """Whether direct app role assignments are removed (else only reported)."""
        return self.profile.exclusive

    def rules_for(self, access_id: AccessId) -> Mapping[str, JsonObject]:
        """The desired rule bodies for `member` or `owner`."""
        return self.member_rules if access_id is AccessId.MEMBER else self.owner_rules

"""What the engine needs from Microsoft Graph, as a Protocol.

`shared.graph.gateway.GraphGateway` implements it over msgraph-sdk; tests run it against graphsim.
Reads return the domain's observed types; writes are keyed or idempotent, so a retried or repeated
write never duplicates anything (a `ConflictError` from shared.graph.errors means "already done" and
is absorbed by the gateway). Errors are the tree in shared.graph.errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.domain.ids import (
    AppRoleAssignmentId,
    AppRoleId,
    GroupId,
    PolicyId,
    PrincipalId,
    ServicePrincipalId,
)
from shared.domain.model import (
    AccessId,
    ActiveAssignment,
    AppRoleAssignment,
    EligibilityInstance,
    JsonObject,
    ObservedGroup,
    ObservedPolicy,
    ServicePrincipal,
    TicketInfo,
)


@dataclass(frozen=True)
class ServicePrincipalDelta:
    """One round of `servicePrincipals/delta`: what changed, what was removed, where to continue.

    `changed` holds the full current view of each changed service principal (the gateway re-reads
    partial delta entries). `removed` holds ids reported with `@removed`.
    """

    changed: tuple[ServicePrincipal, ...]
    removed: tuple[ServicePrincipalId, ...]
    delta_link: str


@dataclass(frozen=True)
class GroupDelta:
    """One round of `groups/delta` over the managed groups: which of them changed (members included)."""

    changed: frozenset[GroupId]
    removed: frozenset[GroupId]
    delta_link: str


@dataclass(frozen=True)
class AuditSignal:
    """A directory audit entry reduced to what tells the engine which objects to look at again.

    `initiated_by_app` is the service principal id (lower-cased) of the app that made the change
    (`initiatedBy.app.servicePrincipalId`), None when a user made it or Entra names no app.
    """

    id: str
    activity: str
    at: datetime
    target_ids: frozenset[str]
    initiated_by_app: str | None = None


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the guardrails need it."""

    id: PrincipalId
    user_principal_name: str
    user_type: str  # "Member" or "Guest"; "" when Graph did not say
    account_enabled: bool


@dataclass(frozen=True)
class GroupPolicies:
    """The member and owner policies of a group (ids change when the group is onboarded to PIM)."""

    member: ObservedPolicy | None
    owner: ObservedPolicy | None

    def get(self, access_id: AccessId) -> ObservedPolicy | None:
        return self.member if access_id is AccessId.MEMBER else self.owner


@dataclass(frozen=True)
class GroupPimState:
    """Member eligibilities and active assignments of one group."""

    eligibilities: tuple[EligibilityInstance, ...] = ()
    active_assignments: tuple[ActiveAssignment, ...] = ()


@dataclass(frozen=True)
class ScheduleRequestResult:
    """What PIM answered to a schedule request."""

    request_id: str
    status: str
    already_existed: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)


class DeltaTokenExpired(Exception):
    """The stored delta link is no longer accepted: start again with a full round."""


class GraphPort(Protocol):
    # -- discovery -------------------------------------------------------------------------------
    async def service_principal_delta(self, delta_link: str | None) -> ServicePrincipalDelta:
        """Follow one delta round to its deltaLink (None = a full initial round). Raises DeltaTokenExpired."""
        ...

    async def get_service_principal(self, sp_id: ServicePrincipalId) -> ServicePrincipal | None:
        """The service principal, or None when it does not exist (deleted)."""
        ...

    async def find_service_principal_by_app_id(self, app_id: str) -> ServicePrincipal | None:
        """The service principal of an application (client) id, or None."""
        ...

    async def group_delta(
        self, group_ids: Sequence[GroupId], delta_link: str | None, *, filtered: bool = False
    ) -> GroupDelta:
        """Changes to the given groups (members included) since delta_link; None starts a baseline,
        tenant-wide or (`filtered`) over these ids only (at most 50). Raises DeltaTokenExpired."""
        ...

    async def audit_signals(self, since: datetime, until: datetime) -> list[AuditSignal]:
        """Directory audit entries in [since, until] of the activities that can change a managed app's
        protection (PIM, group members/owners/updates/deletes, app role assignments, service principals)."""
        ...

    async def get_user(self, id_or_upn: str) -> DirectoryUser | None:
        """A user by object id or UPN, or None."""
        ...

    # -- observation -----------------------------------------------------------------------------
    async def find_group(self, unique_name: str) -> ObservedGroup | None:
        """The group with this uniqueName, members and owners included, or None (not there / not visible)."""
        ...

    async def get_group(self, group_id: GroupId) -> ObservedGroup | None:
        """The group with this id, members and owners included, or None (not there / not visible)."""
        ...

    async def group_unique_names(self, group_ids: Sequence[GroupId]) -> Mapping[GroupId, str]:
        """The uniqueName of each of these groups that exists and has one."""
        ...

    async def group_policies(self, group_id: GroupId) -> GroupPolicies:
        """The group's member and owner role management policies with their rules."""
        ...

    async def group_pim_state(self, group_id: GroupId) -> GroupPimState:
        """Member eligibility instances (with schedule creation times) and active assignment instances."""
        ...

    async def app_role_assignments(self, sp_id: ServicePrincipalId) -> list[AppRoleAssignment]:
        """Every `appRoleAssignedTo` entry of the service principal."""
        ...

    # -- writes ----------------------------------------------------------------------------------
    async def ensure_group(
        self,
        unique_name: str,
        display_name: str,
        description: str,
        mail_nickname: str,
        *,
        is_assignable_to_role: bool,
    ) -> ObservedGroup:
        """Create the group keyed by uniqueName, or return the one that has it (upsert; never a second)."""
        ...

    async def update_group(
        self, group_id: GroupId, *, display_name: str | None, description: str | None
    ) -> None: ...

    async def patch_policy_rule(self, policy_id: PolicyId, rule_id: str, body: JsonObject) -> None:
        """PATCH one rule (the body carries its @odata.type)."""
        ...

    async def patch_policy_rules(self, policy_id: PolicyId, bodies: list[JsonObject]) -> None:
        """PATCH several rules of one policy in one request (one write instead of one per rule)."""
        ...

    async def assign_group_to_app(
        self, sp_id: ServicePrincipalId, group_id: GroupId, app_role_id: AppRoleId
    ) -> AppRoleAssignmentId | None:
        """Create the app role assignment; None when it already existed."""
        ...

    async def require_assignment(self, sp_id: ServicePrincipalId) -> None:
        """PATCH appRoleAssignmentRequired = true."""
        ...

    async def request_eligibility(
        self,
        action: str,  # adminAssign | adminUpdate | adminExtend | adminRemove
        group_id: GroupId,
        principal_id: PrincipalId,
        *,
        access_id: AccessId = AccessId.MEMBER,
        start: datetime | None = None,
        end: datetime | None = None,
        justification: str = "",
        ticket: TicketInfo | None = None,
    ) -> ScheduleRequestResult:
        """POST an eligibilityScheduleRequest; RoleAssignmentExists comes back as already_existed."""
        ...

    async def remove_member(self, group_id: GroupId, principal_id: PrincipalId) -> None:
        """DELETE /groups/{id}/members/{principal}/$ref; already gone is fine."""
        ...

    async def delete_app_role_assignment(
        self, sp_id: ServicePrincipalId, assignment_id: AppRoleAssignmentId
    ) -> None:
        """DELETE the app role assignment; already gone is fine."""
        ...

    def request_count(self) -> tuple[int, int]:
        """(requests sent, of which writes) since this gateway was built: for the run summary."""
        ...

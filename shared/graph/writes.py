"""Graph writes. Each is keyed or idempotent: repeating one (after a lost response, a crash or the
SDK-level retry of a POST) never creates a second object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.ids import (
    AppRoleAssignmentId,
    AppRoleId,
    GroupId,
    PolicyId,
    PrincipalId,
    ServicePrincipalId,
)
from shared.domain.model import AccessId, JsonObject, ObservedGroup, TicketInfo
from shared.domain.times import format_graph_time
from shared.engine.ports import ScheduleRequestResult
from shared.graph import mapping
from shared.graph.base import GraphBase
from shared.graph.errors import ConflictError, NotFoundError, PermanentGraphError

# adminRemove of something PIM no longer has: the removal already happened.
_ALREADY_GONE = frozenset({"RoleAssignmentDoesNotExist"})



class GraphWrites(GraphBase):
    """The writes the executor performs."""

    async def ensure_group(
        self,
        unique_name: str,
        display_name: str,
        description: str,
        mail_nickname: str,
        *,
        is_assignable_to_role: bool,
    ) -> ObservedGroup:
        """Adopt the group that has this uniqueName, or create it with an upsert keyed by uniqueName.

        `PATCH /groups(uniqueName='…')` with `Prefer: create-if-missing` answers 201 when it created the
        group and 204 when the key already existed: a replay can never make a second group.
        """
        builder = self.group_by_unique_name(unique_name)
        try:
            return await self._read_group(builder)
        except NotFoundError:
            pass
        body: dict[str, Any] = {
            "displayName": display_name,
            "description": description,
            "mailNickname": mail_nickname,
            "mailEnabled": False,
            "securityEnabled": True,
            "groupTypes": [],
        }
        if is_assignable_to_role:
            body["isAssignableToRole"] = True
        created = await self._write("PATCH", builder, body, headers={"Prefer": "create-if-missing"})
        if created.get("id"):
            return mapping.group(created)
        return await self._when_visible(lambda: self._read_group(builder))

    async def _read_group(self, builder: Any) -> ObservedGroup:
        return await self._with_members(await self._get(builder))

    async def update_group(
        self, group_id: GroupId, *, display_name: str | None, description: str | None
    ) -> None:
        """PATCH the group's display name and/or description."""
        body = {
            k: v for k, v in (("displayName", display_name), ("description", description)) if v is not None
        }
        if body:
            await self._write("PATCH", self.client.groups.by_group_id(group_id), body)

    async def patch_policy_rule(self, policy_id: PolicyId, rule_id: str, body: JsonObject) -> None:
        """PATCH one rule with its exact JSON (Graph answers 200 with the rule, or 204 in older docs)."""
        builder = self.client.policies.role_management_policies.by_unified_role_management_policy_id(
            policy_id
        ).rules.by_unified_role_management_policy_rule_id(rule_id)
        # No replication wait on 404: a policy id that is not found is stale (onboarding replaced it);
        # the executor reads the ids again at once.
        await self._write("PATCH", builder, dict(body))

    async def patch_policy_rules(self, policy_id: PolicyId, bodies: list[JsonObject]) -> None:
        """PATCH several rules of one policy in one request (`PATCH /policies/roleManagementPolicies/{id}`
        with `{"rules": [...]}`): one write instead of one per rule, which matters under the write quota."""
        if len(bodies) == 1:
            await self.patch_policy_rule(policy_id, str(bodies[0]["id"]), bodies[0])
            return
        builder = self.client.policies.role_management_policies.by_unified_role_management_policy_id(
            policy_id
        )
        body = {"rules": [dict(rule) for rule in bodies]}
        await self._write("PATCH", builder, body)

    async def assign_group_to_app(
        self, sp_id: ServicePrincipalId, group_id: GroupId, app_role_id: AppRoleId
    ) -> AppRoleAssignmentId | None:
        """POST appRoleAssignedTo; None when the assignment already existed."""
        builder = self.client.service_principals.by_service_principal_id(sp_id).app_role_assigned_to
        body = {"principalId": group_id, "resourceId": sp_id, "appRoleId": app_role_id}
        try:
            created = await self._when_visible(lambda: self._write("POST", builder, body))
        except ConflictError:
            return None
        return AppRoleAssignmentId(str(created.get("id")))

    async def require_assignment(self, sp_id: ServicePrincipalId) -> None:
        """PATCH appRoleAssignmentRequired = true on the service principal."""
        builder = self.client.service_principals.by_service_principal_id(sp_id)
        await self._write("PATCH", builder, {"appRoleAssignmentRequired": True})

    async def request_eligibility(
        self,
        action: str,
        group_id: GroupId,
        principal_id: PrincipalId,
        *,
        access_id: AccessId = AccessId.MEMBER,
        start: datetime | None = None,
        end: datetime | None = None,
        justification: str = "",
        ticket: TicketInfo | None = None,
    ) -> ScheduleRequestResult:
        """POST an eligibilityScheduleRequest; "already exists" / "already gone" are success."""
        body = _eligibility_body(action, group_id, principal_id, access_id, start, end, justification, ticket)
        builder = self.client.identity_governance.privileged_access.group.eligibility_schedule_requests
        try:
            created = await self._when_visible(lambda: self._write("POST", builder, body))
        except ConflictError as error:
            return ScheduleRequestResult(
                request_id="", status="AlreadyExists", already_existed=True, extra={"code": error.code}
            )
        except PermanentGraphError as error:
            if error.code not in _ALREADY_GONE:
                raise
            return ScheduleRequestResult(
                request_id="", status="AlreadyRemoved", already_existed=True, extra={"code": error.code}
            )
        return ScheduleRequestResult(
            request_id=str(created.get("id") or ""), status=str(created.get("status") or "")
        )

    async def remove_member(self, group_id: GroupId, principal_id: PrincipalId) -> None:
        """DELETE the membership; already gone is fine."""
        builder = self.client.groups.by_group_id(group_id).members.by_directory_object_id(principal_id).ref
        try:
            await self._write("DELETE", builder)
        except NotFoundError:
            return

    async def delete_app_role_assignment(
        self, sp_id: ServicePrincipalId, assignment_id: AppRoleAssignmentId
    ) -> None:
        """DELETE the app role assignment; already gone is fine."""
        sp = self.client.service_principals.by_service_principal_id(sp_id)
        try:
            await self._write("DELETE", sp.app_role_assigned_to.by_app_role_assignment_id(assignment_id))
        except NotFoundError:
            return


def _eligibility_body(
    action: str,
    group_id: GroupId,
    principal_id: PrincipalId,
    access_id: AccessId,
    start: datetime | None,
    end: datetime | None,
    justification: str,
    ticket: TicketInfo | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accessId": access_id.value,
        "principalId": principal_id,
        "groupId": group_id,
        "action": action,
        "justification": justification or "Managed by PIM Warden",
    }
    if action != "adminRemove":
        expiration: dict[str, Any] = {"type": "noExpiration"}
        if end:
            expiration = {"type": "afterDateTime", "endDateTime": format_graph_time(end)}
        body["scheduleInfo"] = {"expiration": expiration}
        if start:
            body["scheduleInfo"]["startDateTime"] = format_graph_time(start)
    if ticket is not None:
        body["ticketInfo"] = {"ticketNumber": ticket.number, "ticketSystem": ticket.system}
    return body

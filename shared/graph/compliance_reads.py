"""The raw Graph reads the compliance collector needs, answered as Graph JSON for the pure mappers.

PIM request, schedule and instance lists refuse a call without `$filter` on groupId or principalId
(graph.md 3.3), so every PIM read here is per group. The directory audit is the opposite: Graph
throttles it at 5 requests per 10 s per app and tenant (graph.md 6.1), so the collector makes ONE
query per run (`loggedByService eq 'PIM'` and the time window) for all managed groups and sorts the
entries per group itself. `$expand=principal` brings each request's UPN along, so no user lookups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.times import format_graph_time
from shared.graph.base import GraphBase, odata_string

Json = dict[str, Any]


class ComplianceReads(GraphBase):
    """PIM history, instances, audit entries, members and app role assignments as raw Graph JSON."""

    @classmethod
    def sharing(cls, base: GraphBase) -> ComplianceReads:
        """Reads over the same SDK client and call runner (one throttle pause for both)."""
        return cls(base.client, base.runner)

    async def assignment_requests(self, group_id: str) -> list[Json]:
        """assignmentScheduleRequests of the group (activations, deactivations, admin assignments)."""
        pim = self.client.identity_governance.privileged_access.group
        return await self._list(
            pim.assignment_schedule_requests, filter=_group(group_id), expand=["principal"]
        )

    async def eligibility_requests(self, group_id: str) -> list[Json]:
        """eligibilityScheduleRequests of the group (grants, extensions, removals)."""
        pim = self.client.identity_governance.privileged_access.group
        return await self._list(
            pim.eligibility_schedule_requests, filter=_group(group_id), expand=["principal"]
        )

    async def eligibility_instances(self, group_id: str) -> list[Json]:
        """eligibilityScheduleInstances of the group: who is eligible now, until when."""
        pim = self.client.identity_governance.privileged_access.group
        return await self._list(
            pim.eligibility_schedule_instances, filter=_group(group_id), expand=["principal"]
        )

    async def assignment_instances(self, group_id: str) -> list[Json]:
        """assignmentScheduleInstances of the group: who is active now (activated or assigned)."""
        pim = self.client.identity_governance.privileged_access.group
        return await self._list(
            pim.assignment_schedule_instances, filter=_group(group_id), expand=["principal"]
        )

    async def pim_audits(self, since: datetime, until: datetime) -> list[Json]:
        """PIM's directory audit entries with activityDateTime in [since, until] (one query, paged)."""
        text = (
            f"loggedByService eq 'PIM' and activityDateTime ge {format_graph_time(since)} "
            f"and activityDateTime le {format_graph_time(until)}"
        )
        return await self._list(self.client.audit_logs.directory_audits, filter=text)

    async def group_members(self, group_id: str) -> list[Json]:
        """The group's direct members (id and UPN)."""
        builder = self.client.groups.by_group_id(group_id).members
        return await self._list(builder, select=["id", "userPrincipalName"])

    async def app_role_assigned_to(self, sp_id: str) -> list[Json]:
        """appRoleAssignedTo of the app's service principal."""
        builder = self.client.service_principals.by_service_principal_id(sp_id).app_role_assigned_to
        return await self._list(builder)


def _group(group_id: str) -> str:
    return f"groupId eq {odata_string(group_id)}"

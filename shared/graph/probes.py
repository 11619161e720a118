"""One small read-only request per feature, for the preflight (`python -m shared doctor`).

Each asks for at most one item, so a probe costs one request; a refusal comes back as the GraphError
Graph answered (status, code, message, request id), which the preflight shows as it is.
"""

from __future__ import annotations

from typing import Any

from shared.graph.base import GraphBase, odata_string


class GraphProbes(GraphBase):
    """Read-only probes; each returns the first item of its page (or None when there is none)."""

    async def service_principal(self) -> dict[str, Any] | None:
        """One service principal (discovery)."""
        return _first(await self._get(self.client.service_principals, top=1, select=["id"]))

    async def group(self) -> dict[str, Any] | None:
        """One group (access groups)."""
        return _first(await self._get(self.client.groups, top=1, select=["id"]))

    async def policy_assignment(self, group_id: str) -> dict[str, Any] | None:
        """The group's PIM policy assignments (policies)."""
        text = f"scopeId eq {odata_string(group_id)} and scopeType eq 'Group'"
        return _first(await self._get(self.client.policies.role_management_policy_assignments, filter=text))

    async def eligibility_schedule(self, group_id: str) -> dict[str, Any] | None:
        """The group's PIM eligibility schedules (eligibility)."""
        pim = self.client.identity_governance.privileged_access.group
        return _first(
            await self._get(pim.eligibility_schedules, filter=f"groupId eq {odata_string(group_id)}")
        )

    async def assignment_request(self, group_id: str) -> dict[str, Any] | None:
        """The group's PIM assignment schedule requests (the compliance trail's activations)."""
        pim = self.client.identity_governance.privileged_access.group
        text = f"groupId eq {odata_string(group_id)}"
        return _first(await self._get(pim.assignment_schedule_requests, filter=text))

    async def audit_entry(self) -> dict[str, Any] | None:
        """One directory audit entry (drift signals, compliance trail)."""
        return _first(await self._get(self.client.audit_logs.directory_audits, top=1))


def _first(page: dict[str, Any]) -> dict[str, Any] | None:
    items = page.get("value") or []
    return items[0] if items and isinstance(items[0], dict) else None

"""Graph reads for discovery and observation, answered in the domain's types."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.domain.ids import GroupId, ServicePrincipalId
from shared.domain.model import (
    AccessId,
    ActiveAssignment,
    AppRoleAssignment,
    EligibilityInstance,
    ObservedGroup,
    ServicePrincipal,
)
from shared.engine.ports import (
    AuditSignal,
    DeltaTokenExpired,
    DirectoryUser,
    GroupDelta,
    GroupPimState,
    GroupPolicies,
    ServicePrincipalDelta,
)
from shared.graph import mapping, signal_queries
from shared.graph.base import GraphBase, odata_string
from shared.graph.errors import GraphError, NotFoundError

_EXPIRED_CODES = frozenset({"syncStateNotFound", "resyncRequired", "syncStateInvalid"})
_USER_SELECT = ["id", "userPrincipalName", "userType", "accountEnabled"]



class GraphReads(GraphBase):
    """Discovery and observation reads."""

    async def service_principal_delta(self, delta_link: str | None) -> ServicePrincipalDelta:
        """One delta round to its deltaLink; partial entries are re-read in full."""
        builder = self.client.service_principals.delta
        start = builder.with_url(delta_link) if delta_link else builder
        select = None if delta_link else mapping.SERVICE_PRINCIPAL_SELECT
        pages = await self._delta_round(start, select=select, from_link=delta_link is not None)
        changed, removed = [], []
        for item in pages.items:
            if "@removed" in item:
                removed.append(ServicePrincipalId(str(item["id"])))
            elif all(key in item for key in ("appId", "displayName", "servicePrincipalType")):
                changed.append(mapping.service_principal(item))
            else:  # an update carries only what changed: read the whole object
                full = await self.get_service_principal(ServicePrincipalId(str(item["id"])))
                if full is not None:
                    changed.append(full)
        return ServicePrincipalDelta(tuple(changed), tuple(removed), pages.delta_link)

    async def get_service_principal(self, sp_id: ServicePrincipalId) -> ServicePrincipal | None:
        """The service principal, or None when it does not exist."""
        builder = self.client.service_principals.by_service_principal_id(sp_id)
        try:
            data = await self._get(builder, select=mapping.SERVICE_PRINCIPAL_SELECT)
        except NotFoundError:
            return None
        return mapping.service_principal(data)

    async def find_service_principal_by_app_id(self, app_id: str) -> ServicePrincipal | None:
        """The service principal of application (client) id `app_id`, or None."""
        from msgraph.generated.service_principals_with_app_id.service_principals_with_app_id_request_builder import (  # noqa: E501
            ServicePrincipalsWithAppIdRequestBuilder,
        )

        # Own copy of the path parameters: the SDK's alternate-key builders share the client's (base.py).
        builder = ServicePrincipalsWithAppIdRequestBuilder(
            self._adapter, dict(self.client.path_parameters), app_id
        )
        try:
            data = await self._get(builder, select=mapping.SERVICE_PRINCIPAL_SELECT)
        except NotFoundError:
            return None
        return mapping.service_principal(data)

    async def group_delta(
        self, group_ids: Sequence[GroupId], delta_link: str | None, *, filtered: bool = False
    ) -> GroupDelta:
        """Which of `group_ids` changed (members included) since `delta_link`.

        Without a link, a tenant-wide round starts "from now" ($deltatoken=latest: the full audit covers
        what came before); a `filtered` one ($filter on these ids, at most 50) runs its initial round in
        full instead, as the docs say nothing of `$filter` together with `$deltatoken=latest`
        (group-delta.md, delta-query-overview.md). Either way nothing is reported changed: a baseline.
        """
        builder = self.client.groups.delta
        if delta_link is None and filtered:
            text = signal_queries.group_id_filter(group_ids)
            baseline = await self._delta_round(builder, filter=text)
            return GroupDelta(frozenset(), frozenset(), baseline.delta_link)
        if delta_link is None:
            # The SDK's URL template for groups/delta has no $deltatoken, so a keyword would be dropped and
            # the request would start a full round instead: name it in the URL itself.
            latest = f"{self._adapter.base_url}/groups/delta?$deltatoken=latest"
            page = await self._get(builder.with_url(latest))
            link = page.get("@odata.deltaLink")
            if not link:
                raise DeltaTokenExpired("groups/delta?$deltatoken=latest answered without a deltaLink")
            return GroupDelta(frozenset(), frozenset(), str(link))
        pages = await self._delta_round(builder.with_url(delta_link), from_link=True)
        wanted = set(group_ids)
        changed = {
            GroupId(str(i["id"])) for i in pages.items if "@removed" not in i and i.get("id") in wanted
        }
        removed = {GroupId(str(i["id"])) for i in pages.items if "@removed" in i and i.get("id") in wanted}
        return GroupDelta(frozenset(changed), frozenset(removed), pages.delta_link)

    async def audit_signals(self, since: datetime, until: datetime) -> list[AuditSignal]:
        """Directory audit entries with activityDateTime in [since, until] of the activities that can
        change a managed app's protection (signal_queries.audit_filter: which, and why)."""
        # $filter datetimes are whole seconds here: round `until` UP, or entries stamped within the
        # current second (Graph keeps fractions) would fall outside the window until the next tick.
        ceiling = until.replace(microsecond=0) + (timedelta(seconds=1) if until.microsecond else timedelta(0))
        items = await self._list(
            self.client.audit_logs.directory_audits,
            filter=signal_queries.audit_filter(since, ceiling),
            select=signal_queries.AUDIT_SELECT,
        )
        return [mapping.audit_signal(item) for item in items]

    async def get_user(self, id_or_upn: str) -> DirectoryUser | None:
        """A user by object id or UPN, or None."""
        try:
            data = await self._get(self.client.users.by_user_id(id_or_upn), select=_USER_SELECT)
        except NotFoundError:
            return None
        return mapping.user(data)

    async def find_group(self, unique_name: str) -> ObservedGroup | None:
        """The group with this uniqueName, members and owners included; None when not (yet) visible."""
        try:
            data = await self._get(self.group_by_unique_name(unique_name))
        except NotFoundError:
            return None
        return await self._with_members(data)

    async def get_group(self, group_id: GroupId) -> ObservedGroup | None:
        """The group with this id, members and owners included; None when not (yet) visible."""
        try:
            data = await self._get(self.client.groups.by_group_id(group_id))
        except NotFoundError:
            return None
        return await self._with_members(data)

    async def group_unique_names(self, group_ids: Sequence[GroupId]) -> dict[GroupId, str]:
        """The uniqueName of each of these groups that exists and has one (read together, batched)."""

        async def one(group_id: GroupId) -> tuple[GroupId, str]:
            builder = self.client.groups.by_group_id(group_id)
            try:
                data = await self._get(builder, select=["id", "uniqueName"])
            except NotFoundError:
                return group_id, ""
            return group_id, str(data.get("uniqueName") or "")

        found = await asyncio.gather(*(one(group_id) for group_id in group_ids))
        return {group_id: name for group_id, name in found if name}

    async def group_policies(self, group_id: GroupId) -> GroupPolicies:
        """The group's member and owner policies, rules expanded."""
        text = f"scopeId eq {odata_string(group_id)} and scopeType eq 'Group'"
        items = await self._list(
            self.client.policies.role_management_policy_assignments,
            filter=text,
            expand=["policy($expand=rules)"],
        )
        found: dict[AccessId, Any] = {}
        for item in items:
            role = mapping.access_id(item.get("roleDefinitionId"))
            if role is not None and item.get("policy"):
                found[role] = mapping.policy(item["policy"], role)
        return GroupPolicies(member=found.get(AccessId.MEMBER), owner=found.get(AccessId.OWNER))

    async def group_pim_state(self, group_id: GroupId) -> GroupPimState:
        """Member and owner eligibilities (with schedule creation times) and active assignments."""
        pim = self.client.identity_governance.privileged_access.group
        text = f"groupId eq {odata_string(group_id)}"
        schedules, eligible, active, active_schedules = await asyncio.gather(
            self._list(pim.eligibility_schedules, filter=text),
            self._list(pim.eligibility_schedule_instances, filter=text),
            self._list(pim.assignment_schedule_instances, filter=text),
            self._list(pim.assignment_schedules, filter=text),
        )
        created = _creation_times(schedules)
        active_created = _creation_times(active_schedules)
        eligibilities = [mapping.eligibility(i, created.get(_key(i))) for i in eligible]
        assignments = [mapping.active_assignment(i, active_created.get(_key(i))) for i in active]
        return GroupPimState(
            eligibilities=tuple(e for e in eligibilities if isinstance(e, EligibilityInstance)),
            active_assignments=tuple(a for a in assignments if isinstance(a, ActiveAssignment)),
        )

    async def app_role_assignments(self, sp_id: ServicePrincipalId) -> list[AppRoleAssignment]:
        """Every appRoleAssignedTo entry of the service principal."""
        builder = self.client.service_principals.by_service_principal_id(sp_id).app_role_assigned_to
        return [mapping.app_role_assignment(item) for item in await self._list(builder)]

    async def _delta_round(
        self, builder: Any, *, select: list[str] | None = None, filter: str | None = None,
        from_link: bool = False,
    ) -> _DeltaPages:
        try:
            page = await self._get(builder, select=select, filter=filter)
            items: list[dict[str, Any]] = []
            while True:
                items.extend(page.get("value") or [])
                if page.get("@odata.deltaLink"):
                    return _DeltaPages(items, str(page["@odata.deltaLink"]))
                next_link = page.get("@odata.nextLink")
                if not next_link:
                    raise DeltaTokenExpired("delta page had neither nextLink nor deltaLink")
                page = await self._get(builder.with_url(next_link))
        except GraphError as error:
            # Graph answers an expired token with 410 Gone or syncStateNotFound/resyncRequired; a token it
            # cannot read at all is a 400. Either way the stored link is useless: start a new round.
            if error.status == 410 or error.code in _EXPIRED_CODES or (from_link and error.status == 400):
                raise DeltaTokenExpired(f"{error.code}: start a new delta round") from error
            raise


class _DeltaPages:
    def __init__(self, items: list[dict[str, Any]], delta_link: str) -> None:
        self.items = items
        self.delta_link = delta_link


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item.get("principalId")), str(item.get("accessId") or "").lower()


def _creation_times(schedules: list[dict[str, Any]]) -> dict[tuple[str, str], datetime]:
    """Schedule creation time per (principal, role): instances lack it, PIM's 5-minute rule needs it."""
    created: dict[tuple[str, str], datetime] = {}
    for schedule in schedules:
        when = mapping.parse_time(schedule.get("createdDateTime"))
        if when is not None:
            created[_key(schedule)] = max(when, created.get(_key(schedule), when))
    return created

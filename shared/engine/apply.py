"""The executor: apply a plan's actions through the Graph port, in order, knowing how Graph behaves.

* A group is created keyed by its uniqueName (never a second one); its id is handed to `on_group`
  at once so the caller records it before anything else can go wrong (crash safety).
* A new group may be invisible for a while (replication delay): a NotFoundError on a group created
  in this run is waited out with backoff within a budget, never answered by creating again.
* A group's PIM policy assignments may not be listed for a while after the group is created (PIM
  replicates with a delay): a rule correction planned without a policy id waits for them within the
  same budget, then gives up as ReplicationTimeout (transient: the app is retried on the next tick;
  the planner records no drift for policies it could not read).
* The first policy-rule update onboards a group to PIM and changes its policy ids: after the first
  write to a group's policies they are read again; a 404 on a policy id means the id is stale (also
  when the onboarding write's answer was lost and its retry met the new ids): re-read at once, retried.
* Given the whole plan (`pending`), every rule correction of one policy goes out in ONE request
  (`PATCH /policies/roleManagementPolicies/{id}` with its rules) : one write
  instead of one per rule, which is what Graph's write budget (3,000 per 150 s) makes matter.
* ConflictError means "already done". Transient and permanent errors propagate to the reconciler,
  which stops this app (and records why) without stopping the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from shared.domain.actions import (
    Action,
    AssignGroupToApp,
    CorrectPolicyRule,
    EnsureGroup,
    GrantEligibility,
    RemoveBypassMember,
    RemoveDirectAssignment,
    RemoveEligibility,
    RequireAssignment,
    UpdateEligibility,
    UpdateGroup,
)
from shared.domain.ids import GroupId, PolicyId, UniqueName
from shared.domain.model import AccessId, ObservedApp
from shared.engine.ports import GraphPort, GroupPolicies
from shared.engine.services import Sleep
from shared.graph.errors import ConflictError, NotFoundError, TransientGraphError

T = TypeVar("T")
OnGroup = Callable[[EnsureGroup, GroupId], Awaitable[None]]


class ReplicationTimeout(TransientGraphError):
    """A group we created (or its policies) stayed invisible for the whole replication budget: try
    again next tick."""


@dataclass
class Executor:
    """Applies the actions of one app's plan; holds what it learned (group ids, fresh policies)."""

    graph: GraphPort
    observed: ObservedApp
    on_group: OnGroup
    sleep: Sleep
    replication_budget_s: float
    group_ids: dict[UniqueName, GroupId] = field(default_factory=dict)
    created: set[GroupId] = field(default_factory=set)
    fresh: dict[GroupId, GroupPolicies] = field(default_factory=dict)
    written: set[GroupId] = field(default_factory=set)
    pending: Sequence[Action] = ()  # the whole plan: lets rule corrections of one policy go together
    sent: set[int] = field(default_factory=set)  # id() of rule corrections already sent with another
    pim_requests: dict[int, str] = field(default_factory=dict)  # id(action) -> PIM schedule request id
    carried: dict[int, tuple[Action, ...]] = field(default_factory=dict)  # id(first) -> its request's

    def __post_init__(self) -> None:
        for seen in self.observed.roles.values():
            if seen.group is not None and seen.group.unique_name is not None:
                self.group_ids[seen.group.unique_name] = seen.group.id

    async def apply(self, action: Action) -> str:
        """Apply one action; returns "applied" or "already done" (ConflictError); raises GraphError."""
        try:
            await self._dispatch(action)
        except ConflictError:
            return "already done"
        return "applied"

    async def _dispatch(self, action: Action) -> None:
        g = self.graph
        match action:
            case EnsureGroup():
                await self._ensure_group(action)
            case UpdateGroup():
                await self._visible(action.group_id, lambda: g.update_group(
                    action.group_id, display_name=action.display_name, description=action.description))
            case CorrectPolicyRule():
                await self._correct_rule(action)
            case AssignGroupToApp():
                gid = self._group(action.unique_name)
                await self._visible(gid, lambda: g.assign_group_to_app(
                    action.service_principal_id, gid, action.app_role_id))
            case RequireAssignment():
                await g.require_assignment(action.service_principal_id)
            case GrantEligibility():
                gid = self._group(action.unique_name)
                result = await self._visible(gid, lambda: g.request_eligibility(
                    "adminAssign", gid, action.principal_id, start=action.start, end=action.end,
                    justification=action.justification, ticket=action.ticket))
                self.pim_requests[id(action)] = result.request_id
            case UpdateEligibility():
                await g.request_eligibility(
                    action.change.value, action.group_id, action.principal_id, start=action.start,
                    end=action.end, justification=action.justification, ticket=action.ticket)
            case RemoveEligibility():
                await g.request_eligibility(
                    "adminRemove", action.group_id, action.principal_id, access_id=action.access_id,
                    justification="PIM Warden: no open grant covers this principal")
            case RemoveBypassMember():
                await g.remove_member(action.group_id, action.principal_id)
            case RemoveDirectAssignment():
                await g.delete_app_role_assignment(action.service_principal_id, action.assignment.id)
            case _:
                pass  # record-only actions (out of scope, deleted) touch no Graph object

    async def _ensure_group(self, action: EnsureGroup) -> None:
        group = await self.graph.ensure_group(
            action.unique_name, action.display_name, action.description, action.mail_nickname,
            is_assignable_to_role=action.is_assignable_to_role)
        self.group_ids[action.unique_name] = group.id
        self.created.add(group.id)
        await self.on_group(action, group.id)

    def carried_with(self, action: Action) -> list[Action]:
        """The other actions the request that applied `action` carried (rule corrections of the same
        policy sent with it); they are done when `action` is."""
        return [a for a in self.carried.get(id(action), ()) if a is not action]

    def _group(self, unique_name: UniqueName) -> GroupId:
        try:
            return self.group_ids[unique_name]
        except KeyError:
            raise NotFoundError(404, "GroupNotEnsured", f"no group for {unique_name} in this run") from None

    async def _correct_rule(self, action: CorrectPolicyRule) -> None:
        if id(action) in self.sent:
            return  # sent in one request with an earlier correction of the same policy
        batch = self._rule_batch(action)
        gid = self._group(action.unique_name)
        policy_id = await self._visible(
            gid, lambda: self._policy_id(gid, action.access_id, action.policy_id),
            wait=action.policy_id is None,
        )
        try:
            await self._patch_rules(policy_id, batch)
        except NotFoundError:
            # A 404 on a policy id means the id went stale: the group was onboarded since it was read
            # (maybe by an earlier attempt whose answer was lost), and PIM gave it new policy ids.
            # Read them again at once; waiting would not bring the old id back.
            self.fresh.pop(gid, None)
            self.written.add(gid)
            policy_id = await self._policy_id(gid, action.access_id, None)
            await self._patch_rules(policy_id, batch)
        self.sent.update(id(a) for a in batch)
        self.carried[id(action)] = tuple(batch)
        if gid not in self.written:
            # The first rule update onboards the group and changes its policy ids: read them again.
            self.written.add(gid)
            self.fresh.pop(gid, None)

    def _rule_batch(self, action: CorrectPolicyRule) -> list[CorrectPolicyRule]:
        """`action` and the plan's other unsent corrections of the same group's same policy."""
        same = [a for a in self.pending if isinstance(a, CorrectPolicyRule) and a is not action
                and id(a) not in self.sent
                and (a.unique_name, a.access_id) == (action.unique_name, action.access_id)]
        return [action, *same]

    async def _patch_rules(self, policy_id: PolicyId, batch: list[CorrectPolicyRule]) -> None:
        if len(batch) == 1:
            await self.graph.patch_policy_rule(policy_id, batch[0].rule_id, batch[0].body)
            return
        await self.graph.patch_policy_rules(policy_id, [dict(a.body) for a in batch])

    async def _policy_id(self, gid: GroupId, access: AccessId, planned: PolicyId | None) -> PolicyId:
        if gid not in self.fresh:
            if planned is not None and gid not in self.written:
                return planned
            self.fresh[gid] = await self.graph.group_policies(gid)
        policy = self.fresh[gid].get(access)
        if policy is None:
            del self.fresh[gid]  # not visible yet: read again on the next attempt
            raise NotFoundError(404, "PolicyNotFound", f"no {access} policy visible for group {gid}")
        return policy.policy_id

    async def _visible(self, gid: GroupId, call: Callable[[], Awaitable[T]], *, wait: bool = False) -> T:
        """Run `call`; while a group created in this run (or, with `wait`, any group's policies) is
        not visible yet, wait and retry. The budget counts the time slept, so a fake clock drives it."""
        if gid not in self.created and not wait:
            return await call()
        waited, delay = 0.0, 0.2
        while True:
            try:
                return await call()
            except NotFoundError as error:
                if waited + delay > self.replication_budget_s:
                    raise ReplicationTimeout(
                        error.status, error.code, f"group {gid} not visible yet: {error.message}",
                        request_id=error.request_id) from error
                await self.sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)

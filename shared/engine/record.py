"""Recording what the engine did: audit events (past tense) and the app's own record (with ETags).

Every applied action becomes one audit event with cause, target, before, after and outcome; drift is
recorded as `DriftDetected` (what was found, what it is set back to). A direct assignment removal
keeps the whole assignment in `before`, which is what undo re-creates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.domain.actions import (
    Action,
    ActionKind,
    CorrectPolicyRule,
    Drift,
    RemoveDirectAssignment,
    UpdateEligibility,
    UpdateGroup,
)
from shared.domain.model import ObservedApp
from shared.storage import (
    AlreadyExistsError,
    AuditEvent,
    ConcurrencyError,
    ManagedApp,
    StateStore,
    json_or_none,
)

EVENT_NAMES = {
    ActionKind.ENSURE_GROUP: "GroupCreated",
    ActionKind.UPDATE_GROUP: "GroupUpdated",
    ActionKind.CORRECT_POLICY_RULE: "PolicyRuleCorrected",
    ActionKind.ASSIGN_GROUP_TO_APP: "GroupAssignedToApp",
    ActionKind.REQUIRE_ASSIGNMENT: "AssignmentRequired",
    ActionKind.GRANT_ELIGIBILITY: "EligibilityGranted",
    ActionKind.UPDATE_ELIGIBILITY: "EligibilityUpdated",
    ActionKind.REMOVE_ELIGIBILITY: "EligibilityRemoved",
    ActionKind.REMOVE_BYPASS_MEMBER: "BypassMemberRemoved",
    ActionKind.REMOVE_DIRECT_ASSIGNMENT: "DirectAssignmentRemoved",
    ActionKind.RECORD_APP_OUT_OF_SCOPE: "AppMarkedOutOfScope",
    ActionKind.RECORD_APP_DELETED: "AppRecordClosed",
}
_ATTEMPTS = 5


def target_of(action: Action) -> str:
    """The object an action changes, as a short text."""
    data = action.to_dict()
    for key in ("group_id", "unique_name", "service_principal_id"):
        if data.get(key):
            suffix = data.get("principal_id") or data.get("rule_id") or ""
            return f"{data[key]}/{suffix}" if suffix else str(data[key])
    return ""


def before_of(action: Action, observed: ObservedApp) -> Any:
    """What the object looked like before the action (None when it did not exist)."""
    if isinstance(action, RemoveDirectAssignment):
        return action.to_dict()["assignment"]
    if isinstance(action, UpdateEligibility):
        return {"end": action.previous_end.isoformat() if action.previous_end else None}
    if isinstance(action, CorrectPolicyRule):
        for seen in observed.roles.values():
            policy = seen.policy(action.access_id) if seen.group is not None else None
            if seen.group is not None and seen.group.unique_name == action.unique_name and policy:
                return policy.rules.get(action.rule_id)
    if isinstance(action, UpdateGroup):
        for seen in observed.roles.values():
            if seen.group is not None and seen.group.id == action.group_id:
                return {"displayName": seen.group.display_name, "description": seen.group.description}
    return None


def action_event(
    app_id: str, action: Action, observed: ObservedApp, cause: str, when: datetime, outcome: str,
    pim_request_id: str | None = None,
) -> AuditEvent:
    """The audit event for one applied (or failed) action; PIM's request id when PIM answered one."""
    after = {k: v for k, v in action.to_dict().items() if k != "reason"}
    if pim_request_id:
        after["pim_request_id"] = pim_request_id
    return AuditEvent(
        when=when, app_id=app_id, action=EVENT_NAMES[action.kind], cause=cause, target=target_of(action),
        before=json_or_none(before_of(action, observed)), after=json_or_none(after), outcome=outcome,
        detail=action.reason,
    )


def drift_event(app_id: str, drift: Drift, cause: str, when: datetime) -> AuditEvent:
    """The audit event for one drift finding."""
    return AuditEvent(
        when=when, app_id=app_id, action="DriftDetected", cause=cause, target=drift.subject,
        before=json_or_none({"kind": drift.kind.value, "found": drift.found}),
        after=json_or_none({"desired": drift.desired, "repaired": drift.repaired}),
        outcome="repairing" if drift.repaired else "reported",
    )


class Unread:
    """Marker: the record was not read yet."""


UNREAD = Unread()


class AppRecords:
    """ETag-safe read-modify-write of ManagedApp records (re-read and re-apply on a lost race).

    `known` is the record as the caller last read it (None: known to be missing): the first change
    starts from it instead of reading again, and each change remembers what it stored for the next,
    so a reconcile reads its record once. The ETag keeps this safe: a record changed meanwhile fails
    the conditional write and is read again."""

    def __init__(self, store: StateStore, known: ManagedApp | Unread | None = UNREAD) -> None:
        self._apps = store.apps
        self._known = known

    async def change(
        self, app_id: str, display_name: str, edit: Callable[[ManagedApp], ManagedApp]
    ) -> ManagedApp:
        """Apply `edit` to the stored record (created when missing) and store it conditionally."""
        for _ in range(_ATTEMPTS):
            current = self._known if not isinstance(self._known, Unread) else await self._apps.find(app_id)
            self._known = UNREAD  # a lost race (or an error) reads again
            try:
                if current is None:
                    stored = await self._apps.create(edit(ManagedApp(app_id, display_name)))
                else:
                    stored = await self._apps.update(replace(edit(current), etag=current.etag))
            except (ConcurrencyError, AlreadyExistsError):
                continue
            self._known = stored
            return stored
        raise ConcurrencyError(f"app record {app_id} kept changing", table="apps", operation="update")

"""Profile -> the PIM policy rules of a managed group, as exact Graph PATCH bodies, and a semantic diff.

A group's member and owner policies each hold the same 17 rules with fixed ids. We manage the ones a
profile speaks about (activation, enablement, approval, authentication context, eligible and active
assignment expiry, and the notification rules the profile lists) and leave the others as Graph has
them. The diff compares what matters the way PIM does: `PT30M` equals `PT0H30M`, enum strings are
case-insensitive, `enabledRules` and approvers are sets, and properties Graph adds are ignored.
Body shapes: docs-contrib api-reference/v1.0/api/unifiedrolemanagementpolicyrule-update.md and
https://learn.microsoft.com/graph/how-to-pim-update-rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.domain.durations import parse_duration
from shared.domain.profiles import Approval, Approver, ApproverKind, Notification, RoleSettings

JsonObject = Mapping[str, Any]
_GRAPH = "#microsoft.graph."


class RuleId(StrEnum):
    """The 17 rule ids of a PIM role management policy (immutable, identical for member and owner)."""

    EXPIRATION_ADMIN_ELIGIBILITY = "Expiration_Admin_Eligibility"
    ENABLEMENT_ADMIN_ELIGIBILITY = "Enablement_Admin_Eligibility"
    NOTIFICATION_ADMIN_ADMIN_ELIGIBILITY = "Notification_Admin_Admin_Eligibility"
    NOTIFICATION_REQUESTOR_ADMIN_ELIGIBILITY = "Notification_Requestor_Admin_Eligibility"
    NOTIFICATION_APPROVER_ADMIN_ELIGIBILITY = "Notification_Approver_Admin_Eligibility"
    EXPIRATION_ADMIN_ASSIGNMENT = "Expiration_Admin_Assignment"
    ENABLEMENT_ADMIN_ASSIGNMENT = "Enablement_Admin_Assignment"
    NOTIFICATION_ADMIN_ADMIN_ASSIGNMENT = "Notification_Admin_Admin_Assignment"
    NOTIFICATION_REQUESTOR_ADMIN_ASSIGNMENT = "Notification_Requestor_Admin_Assignment"
    NOTIFICATION_APPROVER_ADMIN_ASSIGNMENT = "Notification_Approver_Admin_Assignment"
    AUTHENTICATION_CONTEXT_ENDUSER_ASSIGNMENT = "AuthenticationContext_EndUser_Assignment"
    ENABLEMENT_ENDUSER_ASSIGNMENT = "Enablement_EndUser_Assignment"
    APPROVAL_ENDUSER_ASSIGNMENT = "Approval_EndUser_Assignment"
    EXPIRATION_ENDUSER_ASSIGNMENT = "Expiration_EndUser_Assignment"
    NOTIFICATION_ADMIN_ENDUSER_ASSIGNMENT = "Notification_Admin_EndUser_Assignment"
    NOTIFICATION_REQUESTOR_ENDUSER_ASSIGNMENT = "Notification_Requestor_EndUser_Assignment"
    NOTIFICATION_APPROVER_ENDUSER_ASSIGNMENT = "Notification_Approver_EndUser_Assignment"

    @property
    def rule_type(self) -> str:
        """The derived type name, e.g. `unifiedRoleManagementPolicyExpirationRule`."""
        kind = self.value.split("_", 1)[0]
        return f"unifiedRoleManagementPolicy{kind}Rule"

    @property
    def caller(self) -> str:
        """`Admin` or `EndUser`: the second-to-last part of the id."""
        return self.value.split("_")[-2]

    @property
    def level(self) -> str:
        """`Eligibility` or `Assignment`: the last part of the id."""
        return self.value.split("_")[-1]


_NOTIFICATION_EVENTS = {
    "eligible_assignment": ("Admin", "Eligibility"),
    "active_assignment": ("Admin", "Assignment"),
    "activation": ("EndUser", "Assignment"),
}


def notification_rule_id(key: str) -> RuleId:
    """Notification key (`activation_admin`) -> rule id (`Notification_Admin_EndUser_Assignment`)."""
    event, recipient = key.rsplit("_", 1)
    caller, level = _NOTIFICATION_EVENTS[event]
    return RuleId(f"Notification_{recipient.capitalize()}_{caller}_{level}")


def desired_rules(settings: RoleSettings) -> dict[str, dict[str, Any]]:
    """Every rule a role's settings manage, keyed by rule id, as the PATCH body Graph expects."""
    enduser = [
        name
        for name, on in (
            ("MultiFactorAuthentication", settings.require_mfa),
            ("Justification", settings.require_justification),
            ("Ticketing", settings.require_ticket),
        )
        if on
    ]
    admin = [
        name
        for name, on in (
            ("MultiFactorAuthentication", settings.active_assignment_require_mfa),
            ("Justification", settings.active_assignment_require_justification),
        )
        if on
    ]
    bodies = [
        _expiration(RuleId.EXPIRATION_ENDUSER_ASSIGNMENT, True, settings.activation_maximum),
        _enablement(RuleId.ENABLEMENT_ENDUSER_ASSIGNMENT, enduser),
        _approval(settings.approval, settings.require_justification),
        _authentication_context(settings.authentication_context),
        _expiration(
            RuleId.EXPIRATION_ADMIN_ELIGIBILITY,
            not settings.eligibility.allow_permanent,
            settings.eligibility.maximum,
        ),
        _expiration(
            RuleId.EXPIRATION_ADMIN_ASSIGNMENT,
            not settings.active_assignment.allow_permanent,
            settings.active_assignment.maximum,
        ),
        _enablement(RuleId.ENABLEMENT_ADMIN_ASSIGNMENT, admin),
    ]
    bodies += [_notification(notification_rule_id(k), n) for k, n in sorted(settings.notifications.items())]
    return {body["id"]: body for body in bodies}


def _rule(rule_id: RuleId, **settings: Any) -> dict[str, Any]:
    target = {
        "caller": rule_id.caller,
        "operations": ["All"],
        "level": rule_id.level,
        "inheritableSettings": [],
        "enforcedSettings": [],
    }
    return {"@odata.type": _GRAPH + rule_id.rule_type, "id": rule_id.value, **settings, "target": target}


def _expiration(rule_id: RuleId, required: bool, maximum: str) -> dict[str, Any]:
    return _rule(rule_id, isExpirationRequired=required, maximumDuration=maximum)


def _enablement(rule_id: RuleId, enabled: list[str]) -> dict[str, Any]:
    return _rule(rule_id, enabledRules=enabled)


def _authentication_context(claim: str | None) -> dict[str, Any]:
    # Graph keeps claimValue when a context is switched off; we send null, and the diff ignores it then.
    return _rule(
        RuleId.AUTHENTICATION_CONTEXT_ENDUSER_ASSIGNMENT, isEnabled=claim is not None, claimValue=claim
    )


def _notification(rule_id: RuleId, notification: Notification) -> dict[str, Any]:
    return _rule(
        rule_id,
        notificationType="Email",
        recipientType=rule_id.value.split("_")[1],
        notificationLevel=notification.level.value,
        isDefaultRecipientsEnabled=notification.default_recipients,
        notificationRecipients=list(notification.recipients),
    )


def _approval(approval: Approval | None, justification: bool) -> dict[str, Any]:
    # With approval off we send the documented default shape: one stage, nobody in it.
    stages = (
        [
            _stage(
                s.approvers,
                s.escalation_approvers,
                s.timeout_days,
                s.approver_justification_required,
                s.escalation_minutes,
            )
            for s in approval.stages
        ]
        if approval
        else [_stage((), (), 1, True, 0)]
    )
    setting = {
        "isApprovalRequired": approval is not None,
        "isApprovalRequiredForExtension": bool(approval and approval.required_for_extension),
        "isRequestorJustificationRequired": justification,
        "approvalMode": "Serial" if len(stages) > 1 else "SingleStage",
        "approvalStages": stages,
    }
    return _rule(RuleId.APPROVAL_ENDUSER_ASSIGNMENT, setting=setting)


def _stage(
    approvers: Iterable[Approver],
    escalation: Iterable[Approver],
    timeout: int,
    justify: bool,
    escalation_minutes: int,
) -> dict[str, Any]:
    escalation = list(escalation)
    return {
        "approvalStageTimeOutInDays": timeout,
        "isApproverJustificationRequired": justify,
        "escalationTimeInMinutes": escalation_minutes if escalation else 0,
        "isEscalationEnabled": bool(escalation),
        "primaryApprovers": [_subject(a) for a in approvers],
        "escalationApprovers": [_subject(a) for a in escalation],
    }


def _subject(approver: Approver) -> dict[str, Any]:
    if approver.kind is ApproverKind.USER:
        subject = {"@odata.type": _GRAPH + "singleUser", "userId": approver.id}
    else:
        subject = {"@odata.type": _GRAPH + "groupMembers", "groupId": approver.id}
    return subject | ({"description": approver.description} if approver.description else {})


# ---------------------------------------------------------------------------------------------------
# Diff
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleDifference:
    """One managed rule whose observed value differs from the desired one (observed None = missing)."""

    rule_id: str
    desired: JsonObject
    observed: JsonObject | None


def diff_rules(
    desired: Mapping[str, JsonObject], observed: Mapping[str, JsonObject]
) -> tuple[RuleDifference, ...]:
    """The desired rules that differ from what Graph shows, in a safe PATCH order."""
    changed = [
        RuleDifference(rule_id, body, observed.get(rule_id))
        for rule_id, body in desired.items()
        if not rule_matches(rule_id, body, observed.get(rule_id))
    ]
    return tuple(sorted(changed, key=lambda d: _patch_rank(d.rule_id, desired)))


def rule_matches(rule_id: str, desired: JsonObject, observed: JsonObject | None) -> bool:
    """True when the observed rule has the same effect as the desired one."""
    return observed is not None and essence(rule_id, desired) == essence(rule_id, observed)


def _patch_rank(rule_id: str, desired: Mapping[str, JsonObject]) -> tuple[int, int]:
    # Graph refuses to switch MFA on while an authentication context is on (MfaAndAcrsConflict), but
    # accepts the reverse: so a context being switched off goes first, one being switched on goes last.
    order = list(RuleId).index(RuleId(rule_id)) if rule_id in RuleId._value2member_map_ else len(RuleId)
    if rule_id == RuleId.AUTHENTICATION_CONTEXT_ENDUSER_ASSIGNMENT:
        return (2, 0) if desired[rule_id].get("isEnabled") else (0, 0)
    return (1, order)


def essence(rule_id: str, body: JsonObject) -> object:
    """What a rule means, without what Graph adds or orders freely; comparable with ==."""
    kind = rule_id.split("_", 1)[0]
    reader = _ESSENCES.get(kind)
    return reader(body) if reader else {k: v for k, v in body.items() if not k.startswith("@")}


def _lower(value: object) -> str:
    return str(value).lower() if value is not None else ""


def _duration(value: object) -> object:
    try:
        return parse_duration(str(value))
    except ValueError:
        return value


def _expiration_essence(body: JsonObject) -> object:
    return bool(body.get("isExpirationRequired")), _duration(body.get("maximumDuration"))


def _enablement_essence(body: JsonObject) -> object:
    return frozenset(_lower(v) for v in body.get("enabledRules") or ())


def _context_essence(body: JsonObject) -> object:
    enabled = bool(body.get("isEnabled"))
    return enabled, (body.get("claimValue") or "") if enabled else ""


def _notification_essence(body: JsonObject) -> object:
    recipients = frozenset(_lower(v) for v in body.get("notificationRecipients") or ())
    return _lower(body.get("notificationLevel")), bool(body.get("isDefaultRecipientsEnabled")), recipients


def _approval_essence(body: JsonObject) -> object:
    setting = body.get("setting") or {}
    if not setting.get("isApprovalRequired"):
        return "not required"
    stages = tuple(_stage_essence(stage) for stage in setting.get("approvalStages") or ())
    return (
        bool(setting.get("isApprovalRequiredForExtension")),
        bool(setting.get("isRequestorJustificationRequired")),
        stages,
    )


def _stage_essence(stage: JsonObject) -> object:
    escalation = bool(stage.get("isEscalationEnabled"))
    return (
        stage.get("approvalStageTimeOutInDays"),
        bool(stage.get("isApproverJustificationRequired")),
        escalation,
        stage.get("escalationTimeInMinutes") if escalation else 0,
        _subjects(stage.get("primaryApprovers")),
        _subjects(stage.get("escalationApprovers")) if escalation else (),
    )


def _subjects(items: Iterable[JsonObject] | None) -> frozenset[tuple[str, str]]:
    found = set()
    for item in items or ():
        kind = _lower(item.get("@odata.type")).rsplit(".", 1)[-1]
        found.add((kind, _lower(item.get("userId") or item.get("groupId") or item.get("id"))))
    return frozenset(found)


_ESSENCES = {
    "Expiration": _expiration_essence,
    "Enablement": _enablement_essence,
    "AuthenticationContext": _context_essence,
    "Notification": _notification_essence,
    "Approval": _approval_essence,
}


def summarize_rule(body: JsonObject | None) -> str:
    """A short human-readable rendering of a rule's managed settings (for drift records and plans)."""
    if body is None:
        return "(not present)"
    shown = {
        k: v for k, v in body.items() if k not in ("@odata.type", "id", "target") and not k.startswith("@")
    }
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "(no settings)"

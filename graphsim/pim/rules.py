"""The 17 rules of a PIM-for-Groups role management policy, their defaults and their PATCH rules.

Rule ids and @odata.type values are fixed (identity-governance-pim-rules-overview); the group
defaults are those of policyroot-list-rolemanagementpolicyassignments.md example 4. A PATCH must
name the rule's own @odata.type; partial bodies are merged into the stored rule; values are
type-checked and durations must be ISO 8601.

Graph refuses MFA on activation while an authentication context is required, but only in one
direction: enabling MFA while the context is on fails with `MfaAndAcrsConflict`; enabling the
context while MFA is on is accepted (observed live by EasyPIM and other community tooling; no
doc page states the code).

The activation maximum (`Expiration_EndUser_Assignment.maximumDuration`) must lie within half an hour
and 24 hours: the PIM role-settings pages say "from one to 24 hours", and Microsoft confirmed the
portal's floor of 0.5 hours in MicrosoftDocs/azure-docs#51581 (the manual procedure uses 0.5 hours).
No page gives the error body for a value outside it: graphsim answers Graph's generic 400 `BadRequest`.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from graphsim.errors import GraphError
from graphsim.pim.values import bad_request, parse_duration, reject_unknown

_NS = "#microsoft.graph.unifiedRoleManagementPolicy"
TYPES = {
    "expiration": _NS + "ExpirationRule",
    "enablement": _NS + "EnablementRule",
    "approval": _NS + "ApprovalRule",
    "authenticationContext": _NS + "AuthenticationContextRule",
    "notification": _NS + "NotificationRule",
}
ACTIVATION_RULE = "Expiration_EndUser_Assignment"
ACTIVATION_RANGE = (timedelta(minutes=30), timedelta(hours=24))
_ADMIN_ELIG, _ADMIN_ASSIGN, _USER_ASSIGN = (
    ("Admin", "Eligibility"),
    ("Admin", "Assignment"),
    ("EndUser", "Assignment"),
)

# rule id -> (kind, (caller, level), default settings)
RULE_SPECS: dict[str, tuple[str, tuple[str, str], dict[str, Any]]] = {
    "Expiration_Admin_Eligibility": (
        "expiration",
        _ADMIN_ELIG,
        {"isExpirationRequired": True, "maximumDuration": "P365D"},
    ),
    "Enablement_Admin_Eligibility": ("enablement", _ADMIN_ELIG, {"enabledRules": []}),
    "Notification_Admin_Admin_Eligibility": ("notification", _ADMIN_ELIG, {"recipientType": "Admin"}),
    "Notification_Requestor_Admin_Eligibility": ("notification", _ADMIN_ELIG, {"recipientType": "Requestor"}),
    "Notification_Approver_Admin_Eligibility": ("notification", _ADMIN_ELIG, {"recipientType": "Approver"}),
    "Expiration_Admin_Assignment": (
        "expiration",
        _ADMIN_ASSIGN,
        {"isExpirationRequired": True, "maximumDuration": "P180D"},
    ),
    "Enablement_Admin_Assignment": ("enablement", _ADMIN_ASSIGN, {"enabledRules": ["Justification"]}),
    "Notification_Admin_Admin_Assignment": ("notification", _ADMIN_ASSIGN, {"recipientType": "Admin"}),
    "Notification_Requestor_Admin_Assignment": (
        "notification",
        _ADMIN_ASSIGN,
        {"recipientType": "Requestor"},
    ),
    "Notification_Approver_Admin_Assignment": ("notification", _ADMIN_ASSIGN, {"recipientType": "Approver"}),
    "Expiration_EndUser_Assignment": (
        "expiration",
        _USER_ASSIGN,
        {"isExpirationRequired": True, "maximumDuration": "PT8H"},
    ),
    "Enablement_EndUser_Assignment": ("enablement", _USER_ASSIGN, {"enabledRules": ["Justification"]}),
    "Approval_EndUser_Assignment": ("approval", _USER_ASSIGN, {}),
    "AuthenticationContext_EndUser_Assignment": (
        "authenticationContext",
        _USER_ASSIGN,
        {"isEnabled": False, "claimValue": None},
    ),
    "Notification_Admin_EndUser_Assignment": ("notification", _USER_ASSIGN, {"recipientType": "Admin"}),
    "Notification_Requestor_EndUser_Assignment": (
        "notification",
        _USER_ASSIGN,
        {"recipientType": "Requestor"},
    ),
    "Notification_Approver_EndUser_Assignment": ("notification", _USER_ASSIGN, {"recipientType": "Approver"}),
}

ENABLEMENT_VALUES = ("MultiFactorAuthentication", "Justification", "Ticketing")
_SETTINGS = {
    "expiration": {"isExpirationRequired", "maximumDuration"},
    "enablement": {"enabledRules"},
    "approval": {"setting"},
    "authenticationContext": {"isEnabled", "claimValue"},
    "notification": {
        "notificationType",
        "recipientType",
        "notificationLevel",
        "isDefaultRecipientsEnabled",
        "notificationRecipients",
    },
}


def _default_setting() -> dict[str, Any]:
    stage = {
        "approvalStageTimeOutInDays": 1,
        "isApproverJustificationRequired": True,
        "escalationTimeInMinutes": 0,
        "isEscalationEnabled": False,
        "primaryApprovers": [],
        "escalationApprovers": [],
    }
    return {
        "isApprovalRequired": False,
        "isApprovalRequiredForExtension": False,
        "isRequestorJustificationRequired": True,
        "approvalMode": "SingleStage",
        "approvalStages": [stage],
    }


def _target(caller: str, level: str) -> dict[str, Any]:
    return {
        "caller": caller,
        "operations": ["All"],
        "level": level,
        "inheritableSettings": [],
        "enforcedSettings": [],
    }


def default_rule(rule_id: str) -> dict[str, Any]:
    """One rule with the documented group default, in Graph's JSON (key order as the docs)."""
    kind, (caller, level), defaults = RULE_SPECS[rule_id]
    rule: dict[str, Any] = {"@odata.type": TYPES[kind], "id": rule_id}
    if kind == "notification":
        rule.update(
            {
                "notificationType": "Email",
                "recipientType": defaults["recipientType"],
                "notificationLevel": "All",
                "isDefaultRecipientsEnabled": True,
                "notificationRecipients": [],
            }
        )
    elif kind == "approval":
        rule["target"] = _target(caller, level)
        rule["setting"] = _default_setting()
        return rule
    else:
        rule.update(copy.deepcopy(defaults))
    rule["target"] = _target(caller, level)
    return rule


def default_rules() -> list[dict[str, Any]]:
    """All 17 rules with their group defaults, in the documented order."""
    return [default_rule(rule_id) for rule_id in RULE_SPECS]


def merge_rule(current: dict[str, Any], body: Any, rule_id: str) -> dict[str, Any]:
    """Validate a PATCH body for `current` and return the merged rule (current is untouched)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    kind = RULE_SPECS[rule_id][0] if rule_id in RULE_SPECS else None
    expected = current.get("@odata.type")
    if body.get("@odata.type") != expected:
        raise bad_request(f"The @odata.type of rule '{rule_id}' must be '{expected}'.")
    if body.get("id", rule_id) != rule_id:
        raise bad_request(f"The rule id '{body.get('id')}' does not match '{rule_id}'.")
    reject_unknown(body, {"id", "target"} | _SETTINGS.get(kind or "", set()), expected or "rule")
    merged = copy.deepcopy(current)
    for key, value in body.items():
        if key.startswith("@odata.") or key == "id":
            continue
        merged[key] = _checked(key, value, merged.get(key))
    if merged.get("isExpirationRequired") and not merged.get("maximumDuration"):
        raise bad_request("maximumDuration is required when isExpirationRequired is true.")
    if rule_id == ACTIVATION_RULE and "maximumDuration" in body:
        _check_activation_maximum(merged["maximumDuration"])
    return merged


def _check_activation_maximum(value: str) -> None:
    low, high = ACTIVATION_RANGE
    if not low <= parse_duration(value, "maximumDuration") <= high:
        raise bad_request(
            f"The maximumDuration '{value}' of rule '{ACTIVATION_RULE}' is out of range: "
            "the activation maximum duration must be from PT30M to PT24H."
        )


def _checked(key: str, value: Any, current: Any) -> Any:
    if key in ("isExpirationRequired", "isEnabled", "isDefaultRecipientsEnabled"):
        if not isinstance(value, bool):
            raise bad_request(f"Invalid value for '{key}': expected a boolean.")
        return value
    if key == "maximumDuration":
        parse_duration(value, key)
        return value
    if key == "enabledRules":
        return _enabled_rules(value)
    if key in ("claimValue", "notificationType", "recipientType", "notificationLevel"):
        return _checked_str(key, value)
    if key == "notificationRecipients":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request("Invalid value for 'notificationRecipients': expected strings.")
        return value
    if key == "setting":
        return _approval_setting(value, current)
    return _target_patch(value, current)


def _checked_str(key: str, value: Any) -> Any:
    allowed = {
        "notificationType": ("Email",),
        "recipientType": ("Requestor", "Approver", "Admin"),
        "notificationLevel": ("None", "Critical", "All"),
    }.get(key)
    if value is None and key == "claimValue":
        return None
    if not isinstance(value, str):
        raise bad_request(f"Invalid value for '{key}': expected a string.")
    if allowed is not None:
        match = [a for a in allowed if a.lower() == value.lower()]
        if not match:
            raise bad_request(f"Requested value '{value}' was not found for '{key}'.")
        return match[0]
    return value


def _enabled_rules(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("Invalid value for 'enabledRules': expected a list of strings.")
    out = []
    for item in value:
        match = [a for a in ENABLEMENT_VALUES if a.lower() == item.lower()]
        if not match:
            raise bad_request(f"'{item}' is not a valid enablement rule.")
        out.append(match[0])
    return out


def _approval_setting(value: Any, current: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("Invalid value for 'setting': expected an approvalSettings object.")
    merged = copy.deepcopy(current) if isinstance(current, dict) else _default_setting()
    for key in ("isApprovalRequired", "isApprovalRequiredForExtension", "isRequestorJustificationRequired"):
        if key in value and not isinstance(value[key], bool):
            raise bad_request(f"Invalid value for '{key}': expected a boolean.")
    stages = value.get("approvalStages", merged.get("approvalStages"))
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        raise bad_request("Invalid value for 'approvalStages': expected a list of objects.")
    for stage in stages:
        timeout = stage.get("approvalStageTimeOutInDays", 1)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
            raise bad_request("Invalid value for 'approvalStageTimeOutInDays'.")
    merged.update(value)
    return merged


def _target_patch(value: Any, current: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("Invalid value for 'target': expected an object.")
    merged = copy.deepcopy(current) if isinstance(current, dict) else {}
    merged.update({k: v for k, v in value.items() if not k.startswith("@odata.")})
    return merged


def check_mfa_conflict(rules: dict[str, dict[str, Any]], patched: set[str]) -> None:
    """Refuse turning MFA on for activation while an authentication context is required."""
    enablement = rules.get("Enablement_EndUser_Assignment", {})
    context = rules.get("AuthenticationContext_EndUser_Assignment", {})
    mfa_on = "MultiFactorAuthentication" in enablement.get("enabledRules", [])
    if mfa_on and context.get("isEnabled") and "Enablement_EndUser_Assignment" in patched:
        raise GraphError(
            400, "MfaAndAcrsConflict", "The Mfa and Acrs policy settings cannot be enabled simultaneously."
        )

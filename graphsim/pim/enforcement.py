"""Checking a schedule request against the role management policy in force.

Failures are collected by rule name and reported together the way PIM reports them:
400 RoleAssignmentRequestPolicyValidationFailed "The following policy rules failed: ["ExpirationRule"]"
(names observed: ExpirationRule, MfaRule, EligibilityRule; JustificationRule and TicketingRule
follow the same pattern). Limits that hold whatever the policy says: an assignment lasts at least
5 minutes, and an activation at most 8 hours (PIM-for-groups API overview).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from graphsim.errors import GraphError
from graphsim.pim.intake import ParsedRequest
from graphsim.pim.values import parse_duration

MINIMUM_LENGTH = timedelta(minutes=5)
ACTIVATION_CAP = timedelta(hours=8)


@dataclass(frozen=True)
class Caller:
    """Who sends a request and which claims their token would carry (simulator headers)."""

    user_id: str | None = None
    mfa: bool = False
    acrs: frozenset[str] = field(default_factory=frozenset)


def policy_failed(rules: list[str]) -> GraphError:
    """The 400 PIM answers when policy rules fail."""
    names = json.dumps(sorted(set(rules), key=rules.index), separators=(",", ":"))
    return GraphError(
        400, "RoleAssignmentRequestPolicyValidationFailed", f"The following policy rules failed: {names}"
    )


def admin_failures(rules: dict[str, dict[str, Any]], req: ParsedRequest, caller: Caller) -> list[str]:
    """Rule names an admin request breaks (Expiration_Admin_* and Enablement_Admin_*)."""
    level = "Eligibility" if req.kind == "eligibility" else "Assignment"
    failed = _expiration(rules[f"Expiration_Admin_{level}"], req.length, permanent_ok=True)
    return failed + _enablement(rules[f"Enablement_Admin_{level}"], req, caller)


def activation_failures(
    rules: dict[str, dict[str, Any]], req: ParsedRequest, length: timedelta | None, caller: Caller
) -> list[str]:
    """Rule names a selfActivate breaks (Expiration/Enablement/Approval_EndUser_Assignment)."""
    failed = _expiration(rules["Expiration_EndUser_Assignment"], length, permanent_ok=False)
    if length is not None and length > ACTIVATION_CAP and "ExpirationRule" not in failed:
        failed.append("ExpirationRule")
    failed += _enablement(rules["Enablement_EndUser_Assignment"], req, caller)
    setting = rules["Approval_EndUser_Assignment"].get("setting") or {}
    if (
        setting.get("isApprovalRequired")
        and setting.get("isRequestorJustificationRequired")
        and not req.justification
        and "JustificationRule" not in failed
    ):
        failed.append("JustificationRule")
    return failed


def activation_length(rules: dict[str, dict[str, Any]], req: ParsedRequest) -> timedelta | None:
    """How long an activation lasts: as asked, or the policy maximum when no end was given."""
    if req.length is not None or req.expiration_type == "noExpiration":
        return req.length
    maximum = rules["Expiration_EndUser_Assignment"].get("maximumDuration")
    return min(parse_duration(maximum), ACTIVATION_CAP) if maximum else ACTIVATION_CAP


def requires_approval(rules: dict[str, dict[str, Any]]) -> bool:
    """True when activation waits for an approver."""
    return bool((rules["Approval_EndUser_Assignment"].get("setting") or {}).get("isApprovalRequired"))


def approval_timeout(rules: dict[str, dict[str, Any]]) -> timedelta:
    """How long a pending activation waits before it expires (first stage's timeout)."""
    stages = (rules["Approval_EndUser_Assignment"].get("setting") or {}).get("approvalStages") or [{}]
    return timedelta(days=int(stages[0].get("approvalStageTimeOutInDays", 1)))


def check_context(rules: dict[str, dict[str, Any]], caller: Caller) -> None:
    """An activation needs the policy's authentication context claim when one is required."""
    context = rules["AuthenticationContext_EndUser_Assignment"]
    if context.get("isEnabled") and context.get("claimValue") not in caller.acrs:
        raise GraphError(
            400,
            "RoleAssignmentRequestAcrsValidationFailed",
            f"The role assignment request requires the authentication context '{context.get('claimValue')}'.",
        )


def _expiration(rule: dict[str, Any], length: timedelta | None, permanent_ok: bool) -> list[str]:
    if length is None:
        return [] if permanent_ok and not rule.get("isExpirationRequired") else ["ExpirationRule"]
    maximum = rule.get("maximumDuration")
    too_long = bool(rule.get("isExpirationRequired") and maximum and length > parse_duration(maximum))
    return ["ExpirationRule"] if too_long or length < MINIMUM_LENGTH else []


def _enablement(rule: dict[str, Any], req: ParsedRequest, caller: Caller) -> list[str]:
    enabled = rule.get("enabledRules") or []
    failed = []
    if "Justification" in enabled and not req.justification:
        failed.append("JustificationRule")
    if "Ticketing" in enabled and not req.ticket_number:
        failed.append("TicketingRule")
    if "MultiFactorAuthentication" in enabled and not caller.mfa:
        failed.append("MfaRule")
    return failed

"""Profile -> PIM rule bodies (every field reaches its rule and property) and the semantic rule diff."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from shared.domain.profiles import (
    Approval,
    ApprovalStage,
    Approver,
    ApproverKind,
    Expiry,
    Notification,
    NotificationLevel,
    RoleSettings,
    load_profiles,
)
from shared.domain.rules import RuleId, desired_rules, diff_rules, notification_rule_id, rule_matches

STANDARD = load_profiles().get("standard").member
APPROVER = Approver(ApproverKind.USER, "3f1e2d4c-1111-4a5b-9c8d-000000000001", "Ann")
APPROVERS = Approver(ApproverKind.GROUP, "3f1e2d4c-2222-4a5b-9c8d-000000000002")


def rules(**changes: Any) -> dict[str, dict[str, Any]]:
    return desired_rules(replace(STANDARD, **changes))


def test_every_rule_has_the_documented_shape() -> None:
    for rule_id, body in rules(notifications={"activation_admin": Notification()}).items():
        rule = RuleId(rule_id)
        assert body["id"] == rule_id
        assert body["@odata.type"] == f"#microsoft.graph.{rule.rule_type}"
        assert body["target"] == {
            "caller": rule.caller,
            "operations": ["All"],
            "level": rule.level,
            "inheritableSettings": [],
            "enforcedSettings": [],
        }


def test_standard_member_activation_matches_the_seed() -> None:
    body = rules()
    assert body["Expiration_EndUser_Assignment"]["maximumDuration"] == "PT30M"
    assert body["Expiration_EndUser_Assignment"]["isExpirationRequired"] is True
    assert body["Enablement_EndUser_Assignment"]["enabledRules"] == [
        "MultiFactorAuthentication",
        "Justification",
    ]
    assert body["Enablement_EndUser_Assignment"]["@odata.type"].endswith("EnablementRule")


STAGE = ApprovalStage(approvers=(APPROVER, APPROVERS), timeout_days=2, approver_justification_required=False)
MAPPING = [
    ({"activation_maximum": "PT15M"}, "Expiration_EndUser_Assignment", ("maximumDuration",), "PT15M"),
    ({"require_mfa": False}, "Enablement_EndUser_Assignment", ("enabledRules",), ["Justification"]),
    (
        {"require_ticket": True},
        "Enablement_EndUser_Assignment",
        ("enabledRules",),
        ["MultiFactorAuthentication", "Justification", "Ticketing"],
    ),
    (
        {"require_justification": False},
        "Approval_EndUser_Assignment",
        ("setting", "isRequestorJustificationRequired"),
        False,
    ),
    (
        {"approval": Approval((STAGE,))},
        "Approval_EndUser_Assignment",
        ("setting", "isApprovalRequired"),
        True,
    ),
    (
        {"approval": Approval((STAGE,))},
        "Approval_EndUser_Assignment",
        ("setting", "approvalStages", 0),
        {
            "approvalStageTimeOutInDays": 2,
            "isApproverJustificationRequired": False,
            "escalationTimeInMinutes": 0,
            "isEscalationEnabled": False,
            "escalationApprovers": [],
            "primaryApprovers": [
                {"@odata.type": "#microsoft.graph.singleUser", "userId": APPROVER.id, "description": "Ann"},
                {"@odata.type": "#microsoft.graph.groupMembers", "groupId": APPROVERS.id},
            ],
        },
    ),
    (
        {"approval": Approval((STAGE, STAGE))},
        "Approval_EndUser_Assignment",
        ("setting", "approvalMode"),
        "Serial",
    ),
    (
        {"approval": Approval((STAGE,), required_for_extension=True)},
        "Approval_EndUser_Assignment",
        ("setting", "isApprovalRequiredForExtension"),
        True,
    ),
    ({"approval": None}, "Approval_EndUser_Assignment", ("setting", "isApprovalRequired"), False),
    (
        {"require_mfa": False, "authentication_context": "c3"},
        "AuthenticationContext_EndUser_Assignment",
        ("claimValue",),
        "c3",
    ),
    (
        {"require_mfa": False, "authentication_context": "c3"},
        "AuthenticationContext_EndUser_Assignment",
        ("isEnabled",),
        True,
    ),
    ({}, "AuthenticationContext_EndUser_Assignment", ("isEnabled",), False),
    (
        {"eligibility": Expiry(True, "P365D")},
        "Expiration_Admin_Eligibility",
        ("isExpirationRequired",),
        False,
    ),
    ({"eligibility": Expiry(False, "P90D")}, "Expiration_Admin_Eligibility", ("maximumDuration",), "P90D"),
    (
        {"active_assignment": Expiry(False, "PT8H")},
        "Expiration_Admin_Assignment",
        ("maximumDuration",),
        "PT8H",
    ),
    (
        {"active_assignment_require_mfa": False},
        "Enablement_Admin_Assignment",
        ("enabledRules",),
        ["Justification"],
    ),
    (
        {
            "notifications": {
                "activation_admin": Notification(False, ("soc@contoso.com",), NotificationLevel.CRITICAL)
            }
        },
        "Notification_Admin_EndUser_Assignment",
        ("notificationRecipients",),
        ["soc@contoso.com"],
    ),
    (
        {"notifications": {"activation_admin": Notification(False, (), NotificationLevel.CRITICAL)}},
        "Notification_Admin_EndUser_Assignment",
        ("notificationLevel",),
        "Critical",
    ),
    (
        {"notifications": {"eligible_assignment_requestor": Notification(False)}},
        "Notification_Requestor_Admin_Eligibility",
        ("isDefaultRecipientsEnabled",),
        False,
    ),
    (
        {"notifications": {"active_assignment_approver": Notification()}},
        "Notification_Approver_Admin_Assignment",
        ("recipientType",),
        "Approver",
    ),
]


@pytest.mark.parametrize(("changes", "rule_id", "path", "expected"), MAPPING)
def test_each_profile_field_reaches_its_rule_and_property(
    changes: dict[str, Any], rule_id: str, path: tuple[Any, ...], expected: Any
) -> None:
    value: Any = rules(**changes)[rule_id]
    for step in path:
        value = value[step]
    assert value == expected


def test_notifications_are_managed_only_when_the_profile_lists_them() -> None:
    assert not any(rule_id.startswith("Notification_") for rule_id in rules())
    assert {notification_rule_id(k) for k in ("activation_admin", "eligible_assignment_approver")} == {
        RuleId.NOTIFICATION_ADMIN_ENDUSER_ASSIGNMENT,
        RuleId.NOTIFICATION_APPROVER_ADMIN_ELIGIBILITY,
    }


def as_graph_returns(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The rule as Graph might return it: same meaning, other spelling, extra properties."""
    graphy = copy.deepcopy(body) | {"lastModifiedDateTime": "2026-01-01T00:00:00Z"}
    graphy["target"] = graphy["target"] | {"targetObjects": [], "@odata.type": "#microsoft.graph.target"}
    return graphy | changes


EQUIVALENT = [
    ("Expiration_EndUser_Assignment", {"maximumDuration": "PT0H30M"}),
    ("Expiration_EndUser_Assignment", {"maximumDuration": "PT1800S"}),
    ("Enablement_EndUser_Assignment", {"enabledRules": ["justification", "MULTIFACTORAUTHENTICATION"]}),
    ("AuthenticationContext_EndUser_Assignment", {"claimValue": "c7"}),  # off: claim value does not matter
    ("Approval_EndUser_Assignment", {"setting": {"isApprovalRequired": False, "approvalMode": "NoApproval"}}),
]


@pytest.mark.parametrize(("rule_id", "graph_changes"), EQUIVALENT)
def test_equivalent_observed_rules_are_not_a_difference(rule_id: str, graph_changes: dict[str, Any]) -> None:
    desired = rules()
    assert rule_matches(rule_id, desired[rule_id], as_graph_returns(desired[rule_id], **graph_changes))


def test_approvers_compare_as_sets_whatever_property_names_the_id() -> None:
    desired = rules(approval=Approval((STAGE,)))["Approval_EndUser_Assignment"]
    observed = as_graph_returns(desired)
    stage = observed["setting"]["approvalStages"][0]
    stage["primaryApprovers"] = [
        {"@odata.type": "#microsoft.graph.groupMembers", "id": APPROVERS.id.upper(), "isBackup": False},
        {"@odata.type": "#microsoft.graph.singleUser", "userId": APPROVER.id},
    ]
    assert rule_matches("Approval_EndUser_Assignment", desired, observed)
    stage["primaryApprovers"] = stage["primaryApprovers"][:1]
    assert not rule_matches("Approval_EndUser_Assignment", desired, observed)


DIFFERENT = [
    ("Expiration_EndUser_Assignment", {"maximumDuration": "PT8H"}),
    ("Expiration_Admin_Eligibility", {"isExpirationRequired": False}),
    ("Enablement_EndUser_Assignment", {"enabledRules": ["Justification"]}),
    ("AuthenticationContext_EndUser_Assignment", {"isEnabled": True, "claimValue": "c1"}),
    ("Approval_EndUser_Assignment", {"setting": {"isApprovalRequired": True, "approvalStages": []}}),
]


@pytest.mark.parametrize(("rule_id", "graph_changes"), DIFFERENT)
def test_diff_returns_only_the_rules_that_differ(rule_id: str, graph_changes: dict[str, Any]) -> None:
    desired = rules()
    observed = {key: as_graph_returns(body) for key, body in desired.items()}
    observed[rule_id] = as_graph_returns(desired[rule_id], **graph_changes)
    observed["Notification_Admin_Admin_Assignment"] = {"id": "unmanaged", "notificationLevel": "None"}
    (difference,) = diff_rules(desired, observed)
    assert (difference.rule_id, difference.desired, difference.observed) == (
        rule_id,
        desired[rule_id],
        observed[rule_id],
    )


def test_missing_observed_rules_differ() -> None:
    assert {d.rule_id for d in diff_rules(rules(), {})} == set(rules())


@pytest.mark.parametrize("context_on", [True, False])
def test_authentication_context_is_patched_in_the_order_graph_accepts(context_on: bool) -> None:
    settings: RoleSettings = replace(
        STANDARD, require_mfa=not context_on, authentication_context="c1" if context_on else None
    )
    order = [d.rule_id for d in diff_rules(desired_rules(settings), {})]
    context = order.index("AuthenticationContext_EndUser_Assignment")
    enablement = order.index("Enablement_EndUser_Assignment")
    # Switching a context on: MFA must already be off. Switching MFA on: the context must already be off.
    assert (context > enablement) is context_on

"""Turns a profile file's JSON into validated `Profile`s, refusing anything Graph would refuse.

Checks made here (each error names the profile and the field):
- unknown keys anywhere (a typo must not silently weaken a policy);
- durations are ISO-8601 day-time durations; activation maximum within PT30M..PT8H (PIM refuses a
  maximum activation duration below half an hour, the floor of the portal's slider and of the manual
  procedure; PIM for Groups: "activation is always time-bound for up to a maximum of eight hours");
- MFA together with an authentication context (Graph answers `MfaAndAcrsConflict`);
- approval without an approver in every stage; approver ids that are not GUIDs;
- authentication context ids other than `c1`..`c99`; notification levels and recipients.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, NoReturn

from shared.domain.durations import format_duration, parse_duration
from shared.domain.profiles import (
    SAFE_OWNER_SETTINGS,
    SUPPORTED_VERSION,
    Approval,
    ApprovalStage,
    Approver,
    ApproverKind,
    Expiry,
    Notification,
    NotificationLevel,
    Profile,
    ProfileError,
    ProfileSet,
    RoleSelection,
    RoleSelector,
    RoleSettings,
)

ACTIVATION_MINIMUM = timedelta(minutes=30)
ACTIVATION_MAXIMUM = timedelta(hours=8)
EXPIRY_MINIMUM = timedelta(minutes=5)
NOTIFICATION_EVENTS = ("eligible_assignment", "active_assignment", "activation")
NOTIFICATION_RECIPIENTS = ("admin", "requestor", "approver")
NOTIFICATION_KEYS = tuple(f"{e}_{r}" for e in NOTIFICATION_EVENTS for r in NOTIFICATION_RECIPIENTS)
_AUTH_CONTEXT = re.compile(r"^c([1-9]|[1-9][0-9])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Node:
    """A JSON object being read, with the path used in error messages."""

    def __init__(self, data: object, profile: str, path: str) -> None:
        self.profile, self.path = profile, path
        if not isinstance(data, Mapping):
            self.fail("must be an object")
        self.data: Mapping[str, Any] = data

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        where = f"{self.path}.{key}" if key and self.path else (key or self.path or "(top level)")
        raise ProfileError(f"profile {self.profile!r}: {where}: {message}")

    def only(self, *allowed: str) -> None:
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            self.fail(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")

    def child(self, key: str) -> _Node:
        return _Node(self.data.get(key, {}), self.profile, f"{self.path}.{key}" if self.path else key)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail("must be true or false", key)
        return bool(value)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, str):
            self.fail("must be a string", key)
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"must be a whole number from {low} to {high}", key)
        return int(value)

    def duration(self, key: str, default: str, low: timedelta, high: timedelta | None = None) -> str:
        raw = self.data.get(key, default)
        try:
            value = parse_duration(raw) if isinstance(raw, str) else parse_duration("")
        except ValueError:
            self.fail(f"{raw!r} is not an ISO-8601 duration such as PT30M, PT8H or P180D", key)
        if value < low or (high is not None and value > high):
            bounds = f"from {format_duration(low)}" + (f" to {format_duration(high)}" if high else "")
            self.fail(f"{raw} is out of range: PIM accepts {bounds}", key)
        return format_duration(value)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.fail("must be a list", key)
        return list(value)


def parse_profile_set(data: object) -> ProfileSet:
    """Validate a whole profile file (`{"version": 1, "default_profile": ..., "profiles": {...}}`)."""
    root = _Node(data, "*", "")
    root.only("version", "default_profile", "profiles", "$comment")
    if root.data.get("version") != SUPPORTED_VERSION:
        root.fail(
            f"unsupported version {root.data.get('version')!r}; this build reads {SUPPORTED_VERSION}",
            "version",
        )
    profiles = root.child("profiles")
    parsed = {name: parse_profile(name, body) for name, body in profiles.data.items()}
    if not parsed:
        root.fail("no profiles defined", "profiles")
    default = root.text("default_profile", "standard")
    if default not in parsed:
        root.fail(f"names {default!r}, which is not defined", "default_profile")
    return ProfileSet(version=SUPPORTED_VERSION, default_profile=str(default), profiles=parsed)


def parse_profile(name: str, body: object) -> Profile:
    """Validate one profile's JSON object."""
    node = _Node(body, name, "")
    node.only(
        "description",
        "member",
        "owner",
        "remove_bypass_members",
        "exclusive",
        "protected_group",
        "protected_roles",
        "$comment",
    )
    owner = _role_settings(node.child("owner")) if "owner" in node.data else SAFE_OWNER_SETTINGS
    return Profile(
        name=name,
        description=node.text("description", "") or "",
        member=_role_settings(node.child("member")),
        owner=owner,
        remove_bypass_members=node.flag("remove_bypass_members", True),
        exclusive=node.flag("exclusive", False),
        protected_group=node.flag("protected_group", False),
        protected_roles=_role_selector(node),
    )


def _role_settings(node: _Node) -> RoleSettings:
    node.only("activation", "eligibility", "active_assignment", "notifications")
    activation = node.child("activation")
    activation.only(
        "maximum",
        "require_mfa",
        "require_justification",
        "require_ticket",
        "authentication_context",
        "approval",
    )
    require_mfa = activation.flag("require_mfa", True)
    context = activation.text("authentication_context")
    if context is not None and not _AUTH_CONTEXT.match(context):
        activation.fail(
            f"{context!r} is not an authentication context id (c1..c99)", "authentication_context"
        )
    if context is not None and require_mfa:
        activation.fail(
            "MFA and an authentication context cannot both be required on activation "
            "(Graph refuses the pair with MfaAndAcrsConflict); require the context only, "
            "and let its Conditional Access policy demand MFA",
            "authentication_context",
        )
    active = node.child("active_assignment")
    return RoleSettings(
        activation_maximum=activation.duration("maximum", "PT30M", ACTIVATION_MINIMUM, ACTIVATION_MAXIMUM),
        require_mfa=require_mfa,
        require_justification=activation.flag("require_justification", True),
        require_ticket=activation.flag("require_ticket", False),
        approval=_approval(activation) if "approval" in activation.data else None,
        authentication_context=context,
        eligibility=_expiry(node.child("eligibility"), "P180D", ()),
        active_assignment=_expiry(active, "P1D", ("require_mfa", "require_justification")),
        active_assignment_require_mfa=active.flag("require_mfa", True),
        active_assignment_require_justification=active.flag("require_justification", True),
        notifications=_notifications(node.child("notifications")),
    )


def _expiry(node: _Node, default_maximum: str, extra_keys: tuple[str, ...]) -> Expiry:
    node.only("allow_permanent", "maximum", *extra_keys)
    return Expiry(
        allow_permanent=node.flag("allow_permanent", False),
        maximum=node.duration("maximum", default_maximum, EXPIRY_MINIMUM),
    )


def _approval(activation: _Node) -> Approval | None:
    node = activation.child("approval")
    node.only("required", "required_for_extension", "stages")
    if not node.flag("required", True):
        return None
    raw_stages = node.items("stages")
    if not raw_stages:
        node.fail("approval is required but no stage with approvers is given", "stages")
    stages = tuple(
        _stage(_Node(raw, node.profile, f"{node.path}.stages[{i}]")) for i, raw in enumerate(raw_stages)
    )
    return Approval(stages=stages, required_for_extension=node.flag("required_for_extension", False))


def _stage(node: _Node) -> ApprovalStage:
    node.only(
        "approvers",
        "timeout_days",
        "approver_justification_required",
        "escalation_approvers",
        "escalation_minutes",
    )
    approvers = _approvers(node, "approvers")
    if not approvers:
        node.fail("approval is required but no approver is named", "approvers")
    return ApprovalStage(
        approvers=approvers,
        timeout_days=node.integer("timeout_days", 1, 1, 7),
        approver_justification_required=node.flag("approver_justification_required", True),
        escalation_approvers=_approvers(node, "escalation_approvers"),
        escalation_minutes=node.integer("escalation_minutes", 0, 0, 10080),
    )


def _approvers(node: _Node, key: str) -> tuple[Approver, ...]:
    found = []
    for index, raw in enumerate(node.items(key)):
        item = _Node(raw, node.profile, f"{node.path}.{key}[{index}]")
        item.only("user", "group", "description")
        kinds = [kind for kind in ApproverKind if kind.value in item.data]
        if len(kinds) != 1:
            item.fail('give exactly one of "user" or "group" (an object id)')
        value = item.text(kinds[0].value) or ""
        if not _is_guid(value):
            item.fail(f"{value!r} is not an object id (GUID)", kinds[0].value)
        found.append(
            Approver(kind=kinds[0], id=value.lower(), description=item.text("description", "") or "")
        )
    return tuple(found)


def _notifications(node: _Node) -> dict[str, Notification]:
    node.only(*NOTIFICATION_KEYS)
    result = {}
    for key in sorted(node.data):
        item = node.child(key)
        item.only("default_recipients", "recipients", "level")
        level = item.text("level", "All")
        if level not in {member.value for member in NotificationLevel}:
            item.fail(f"{level!r} is not one of None, Critical, All", "level")
        recipients = item.items("recipients")
        for address in recipients:
            if not isinstance(address, str) or not _EMAIL.match(address):
                item.fail(f"{address!r} is not an e-mail address", "recipients")
        result[key] = Notification(
            item.flag("default_recipients", True), tuple(recipients), NotificationLevel(level)
        )
    return result


def _role_selector(node: _Node) -> RoleSelector:
    raw = node.data.get("protected_roles", "all")
    if raw in (RoleSelection.ALL.value, RoleSelection.DEFAULT.value):
        return RoleSelector(RoleSelection(raw))
    if isinstance(raw, list) and raw and all(isinstance(v, str) and v for v in raw):
        return RoleSelector(RoleSelection.NAMED, tuple(raw))
    node.fail('must be "all", "default" or a non-empty list of app role values', "protected_roles")


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36

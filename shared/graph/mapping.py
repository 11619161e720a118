"""Graph's JSON (as the v1.0 docs show it) into the domain's observed types. Pure; no SDK imports.

Reads parse Graph's JSON directly instead of the SDK's models so nothing is lost on the way: enum
values the SDK does not know become None there, and durations come back as Python timedeltas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.domain.ids import (
    AppId,
    AppRoleAssignmentId,
    AppRoleId,
    GroupId,
    PolicyId,
    PrincipalId,
    ServicePrincipalId,
    UniqueName,
)
from shared.domain.model import (
    AccessId,
    ActiveAssignment,
    AppRole,
    AppRoleAssignment,
    AssignmentType,
    EligibilityInstance,
    ObservedGroup,
    ObservedPolicy,
    PrincipalType,
    ServicePrincipal,
)
from shared.domain.times import parse_optional_graph_time
from shared.engine.ports import AuditSignal, DirectoryUser

SERVICE_PRINCIPAL_SELECT = [
    "id",
    "appId",
    "displayName",
    "tags",
    "appRoles",
    "appRoleAssignmentRequired",
    "customSecurityAttributes",
]


def parse_time(value: Any) -> datetime | None:
    """A Graph date-time property (None when absent); GraphTimeError when it is not an aware instant."""
    return parse_optional_graph_time(value)


def service_principal(data: Mapping[str, Any]) -> ServicePrincipal:
    """A servicePrincipal resource."""
    roles = tuple(
        AppRole(
            id=AppRoleId(str(role["id"])),
            value=role.get("value"),
            display_name=str(role.get("displayName") or ""),
            allowed_member_types=frozenset(role.get("allowedMemberTypes") or ()),
            is_enabled=bool(role.get("isEnabled", True)),
        )
        for role in data.get("appRoles") or ()
    )
    return ServicePrincipal(
        id=ServicePrincipalId(str(data["id"])),
        app_id=AppId(str(data.get("appId") or "")),
        display_name=str(data.get("displayName") or ""),
        tags=tuple(data.get("tags") or ()),
        app_roles=roles,
        app_role_assignment_required=bool(data.get("appRoleAssignmentRequired")),
        custom_security_attributes=dict(data.get("customSecurityAttributes") or {}),
    )


def group(data: Mapping[str, Any], members: Iterable[str] = (), owners: Iterable[str] = ()) -> ObservedGroup:
    """A group resource with the ids of its members and owners."""
    return ObservedGroup(
        id=GroupId(str(data["id"])),
        unique_name=UniqueName(data["uniqueName"]) if data.get("uniqueName") else None,
        display_name=str(data.get("displayName") or ""),
        description=data.get("description"),
        mail_nickname=str(data.get("mailNickname") or ""),
        security_enabled=bool(data.get("securityEnabled", True)),
        mail_enabled=bool(data.get("mailEnabled", False)),
        group_types=tuple(data.get("groupTypes") or ()),
        is_assignable_to_role=bool(data.get("isAssignableToRole")),
        member_ids=frozenset(PrincipalId(str(m)) for m in members),
        owner_ids=frozenset(PrincipalId(str(o)) for o in owners),
    )


def app_role_assignment(data: Mapping[str, Any]) -> AppRoleAssignment:
    """An appRoleAssignment resource."""
    kind = str(data.get("principalType") or "User")
    return AppRoleAssignment(
        id=AppRoleAssignmentId(str(data["id"])),
        principal_id=PrincipalId(str(data.get("principalId"))),
        principal_type=PrincipalType(kind)
        if kind in PrincipalType._value2member_map_
        else PrincipalType.USER,
        app_role_id=AppRoleId(str(data.get("appRoleId"))),
        resource_id=ServicePrincipalId(str(data.get("resourceId"))),
        principal_display_name=data.get("principalDisplayName"),
    )


def policy(data: Mapping[str, Any], access_id: AccessId) -> ObservedPolicy:
    """A unifiedRoleManagementPolicy with its rules expanded, rules kept as Graph's JSON."""
    rules = {str(rule["id"]): dict(rule) for rule in data.get("rules") or () if "id" in rule}
    return ObservedPolicy(access_id=access_id, policy_id=PolicyId(str(data["id"])), rules=rules)


def access_id(value: Any) -> AccessId | None:
    """`member` / `owner` in any case, else None."""
    text = str(value or "").lower()
    return AccessId(text) if text in ("member", "owner") else None


def eligibility(data: Mapping[str, Any], created: datetime | None) -> EligibilityInstance | None:
    """An eligibilityScheduleInstance (None when it is not for a member/owner role)."""
    role = access_id(data.get("accessId"))
    start = parse_time(data.get("startDateTime"))
    if role is None or start is None:
        return None
    return EligibilityInstance(
        principal_id=PrincipalId(str(data.get("principalId"))),
        group_id=GroupId(str(data.get("groupId"))),
        access_id=role,
        start=start,
        end=parse_time(data.get("endDateTime")),
        created=created,
    )


def active_assignment(data: Mapping[str, Any], created: datetime | None) -> ActiveAssignment | None:
    """An assignmentScheduleInstance (None when it is not for a member/owner role)."""
    role = access_id(data.get("accessId"))
    start = parse_time(data.get("startDateTime"))
    if role is None or start is None:
        return None
    kind = str(data.get("assignmentType") or "assigned").lower()
    return ActiveAssignment(
        principal_id=PrincipalId(str(data.get("principalId"))),
        group_id=GroupId(str(data.get("groupId"))),
        access_id=role,
        start=start,
        end=parse_time(data.get("endDateTime")),
        assignment_type=AssignmentType.ACTIVATED if kind == "activated" else AssignmentType.ASSIGNED,
        created=created,
    )


def audit_signal(data: Mapping[str, Any]) -> AuditSignal:
    """A directoryAudit reduced to its id, activity, time, target object ids and initiating app."""
    targets = frozenset(str(t["id"]) for t in data.get("targetResources") or () if t.get("id"))
    initiated = data.get("initiatedBy") or {}
    app = initiated.get("app") or {}
    # An entry naming a user is that user's change, whichever app they used.
    initiator = None if (initiated.get("user") or {}).get("id") else app.get("servicePrincipalId")
    return AuditSignal(
        id=str(data.get("id") or ""),
        activity=str(data.get("activityDisplayName") or ""),
        at=parse_time(data.get("activityDateTime")) or datetime.min.replace(tzinfo=UTC),
        target_ids=targets,
        initiated_by_app=str(initiator).lower() if initiator else None,
    )


def user(data: Mapping[str, Any]) -> DirectoryUser:
    """A user resource."""
    return DirectoryUser(
        id=PrincipalId(str(data["id"])),
        user_principal_name=str(data.get("userPrincipalName") or ""),
        user_type=str(data.get("userType") or "Member"),
        account_enabled=bool(data.get("accountEnabled", True)),
    )

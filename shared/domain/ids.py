"""Typed identifiers, so a group id is never passed where a principal id is expected.

All are plain strings at run time (Graph object ids are GUID strings); the types exist for mypy.
"""

from __future__ import annotations

from typing import Final, NewType

ServicePrincipalId = NewType("ServicePrincipalId", str)
"""Object id of a service principal (the enterprise application)."""

AppId = NewType("AppId", str)
"""Application (client) id shared by an application and its service principal: immutable."""

GroupId = NewType("GroupId", str)
PrincipalId = NewType("PrincipalId", str)
"""Object id of a user, group or service principal that can hold access."""

AppRoleId = NewType("AppRoleId", str)
AppRoleAssignmentId = NewType("AppRoleAssignmentId", str)
PolicyId = NewType("PolicyId", str)
"""Id of a unifiedRoleManagementPolicy; for groups `Group_{groupId}_{guid}`, changes on onboarding."""

GrantId = NewType("GrantId", str)
"""Id of an eligibility grant recorded in Table Storage."""

UniqueName = NewType("UniqueName", str)
"""A group's `uniqueName` alternate key: our deterministic, crash-safe identity for a managed group."""

DEFAULT_APP_ROLE_ID: Final = AppRoleId("00000000-0000-0000-0000-000000000000")
"""Graph's "Default Access" role id, used when the resource app declares no app roles."""

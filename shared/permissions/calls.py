"""Which of the manifest's permissions each Graph call PIM Warden makes relies on.

Why: when Graph refuses a call for a missing permission its answer names, at best, a list of scopes
(PIM) and often nothing ("Insufficient privileges to complete the operation."). The operator needs the
one thing to grant, so the gateway names the manifest entries of the refused call. Every name here is
a manifest entry (tests/unit/permissions check it); the first match wins.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_PIM = r"^/identityGovernance/privilegedAccess/group/"
_CALLS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (method, re.compile(pattern, re.IGNORECASE), names)
    for method, pattern, names in (
        ("GET", r"^/servicePrincipals/delta", ("Application.ReadWrite.All", "Directory.Read.All")),
        ("POST", r"^/servicePrincipals[^/]*/[^/]+/appRoleAssignedTo$",
         ("AppRoleAssignment.ReadWrite.All", "Directory.Read.All")),
        ("DELETE", r"/appRoleAssignedTo/", ("AppRoleAssignment.ReadWrite.All",)),
        ("GET", r"^/servicePrincipals", ("Directory.Read.All", "Application.ReadWrite.All")),
        ("PATCH", r"^/servicePrincipals", ("Application.ReadWrite.All",)),
        ("PATCH", r"^/groups\(uniqueName=", ("Group.ReadWrite.All", "RoleManagement.ReadWrite.Directory")),
        ("*", r"^/groups", ("Group.ReadWrite.All",)),
        ("GET", r"^/users", ("Directory.Read.All",)),
        ("*", _PIM + "eligibility", ("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",)),
        ("*", _PIM + "assignment", ("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",)),
        ("*", r"^/policies/roleManagementPolic", ("RoleManagementPolicy.ReadWrite.AzureADGroup",)),
        ("GET", r"^/auditLogs/", ("AuditLog.Read.All", "Directory.Read.All")),
    )
)


def call_path(url: str) -> str:
    """The path of a Graph URL after the version segment (`/v1.0/users/x?...` -> `/users/x`)."""
    path = unquote(urlsplit(url).path if "://" in url else url.split("?", 1)[0])
    match = re.search(r"/(v1\.0|beta)(/.*)$", path)
    return match.group(2) if match else path


def permissions_for(method: str, url: str) -> tuple[str, ...]:
    """The manifest permissions the call `method url` relies on (empty when it is not one of ours)."""
    path = call_path(url)
    for want, pattern, names in _CALLS:
        if want in ("*", method.upper()) and pattern.search(path):
            return names
    return ()


def all_named() -> frozenset[str]:
    """Every permission name this table uses (each must be a manifest entry)."""
    return frozenset(name for _, _, names in _CALLS for name in names)

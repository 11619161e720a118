"""The call table names only manifest permissions, and a refused call names what to grant."""

from __future__ import annotations

from shared.permissions.calls import all_named, permissions_for
from shared.permissions.manifest import load_manifest


def test_every_permission_the_call_table_names_is_in_the_manifest() -> None:
    manifest = {p.name for p in load_manifest().permissions}
    assert all_named() <= manifest, sorted(all_named() - manifest)


def test_a_refused_call_names_its_permissions() -> None:
    url = "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$filter=x"
    assert permissions_for("GET", url) == ("AuditLog.Read.All", "Directory.Read.All")
    pim = "/v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleRequests"
    assert permissions_for("GET", pim) == ("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",)
    assert permissions_for("GET", "/v1.0/somethingElse") == ()

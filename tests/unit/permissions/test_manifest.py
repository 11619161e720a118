"""The permission manifest: well-formed, ids as Microsoft publishes them, README equal to it."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.permissions import docs
from shared.permissions.manifest import MANIFEST_PATH, Need, Option, load_manifest

# Application app role ids as listed in microsoftgraph/microsoft-graph-docs-contrib
# concepts/permissions-reference.md ("All permissions and IDs", include concepts/includes/permissions-ids.md).
PERMISSIONS_REFERENCE_IDS = {
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "CustomSecAttributeAssignment.Read.All": "3b37c5a4-1226-493d-bec3-5d6c6b866f3f",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
}
# Newer than the reference revision read: these ids are the appRoles of the Microsoft Graph service
# principal (its published "Id" per permission), agreeing across independent dumps.
SERVICE_PRINCIPAL_IDS = {
    "RoleManagementPolicy.ReadWrite.AzureADGroup": "b38dcc4d-a239-4ed6-aa84-6c65b284f97c",
    "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup": "618b6020-bca8-4de6-99f6-ef445fa4d857",
    "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup": "41202f2c-f7ab-45be-b001-85c9728b9d69",
}


def test_every_id_is_a_lower_case_guid_and_unique() -> None:
    raw = json.loads(MANIFEST_PATH.read_text())["permissions"]
    ids = [entry["id"] for entry in raw]
    assert all(str(uuid.UUID(i)) == i for i in ids)
    assert len(set(ids)) == len(ids)
    assert len({entry["name"] for entry in raw}) == len(raw)


def test_ids_match_what_microsoft_publishes() -> None:
    manifest = load_manifest()
    assert {
        p.name: p.app_role_id for p in manifest.permissions
    } == PERMISSIONS_REFERENCE_IDS | SERVICE_PRINCIPAL_IDS


def test_collector_gets_the_only_permission_documented_for_assignment_requests() -> None:
    manifest = load_manifest()
    needed = {p.name for p in manifest.always()}
    assert "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup" in needed
    assert "PrivilegedAssignmentSchedule.Read.AzureADGroup" not in needed
    assert "compliance" in manifest.by_name("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup").features


def test_optional_permissions_name_their_setting_and_option() -> None:
    manifest = load_manifest()
    optional = {p.name: p.option for p in manifest.permissions if p.need is Need.SETTING}
    assert optional == {
        "CustomSecAttributeAssignment.Read.All": Option.ATTRIBUTES,
        "RoleManagement.ReadWrite.Directory": Option.PROTECTED_GROUPS,
    }
    assert all(p.option is None for p in manifest.always())
    assert len(manifest.needed(frozenset(Option))) == len(manifest.permissions)
    assert manifest.needed() == manifest.always()


def test_every_doc_page_is_a_v1_graph_page() -> None:
    for permission in load_manifest().permissions:
        assert permission.docs
        assert all(d.startswith("api-reference/v1.0/") and d.endswith(".md") for d in permission.docs)


def test_a_setting_entry_without_its_option_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    raw = json.loads(MANIFEST_PATH.read_text())
    del raw["permissions"][-1]["option"]
    path = Path(str(tmp_path)) / "m.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match=r"RoleManagement\.ReadWrite\.Directory"):
        load_manifest.__wrapped__(path)


def test_readme_permission_table_is_the_generated_one() -> None:
    block = docs.readme_block(docs.README.read_text(encoding="utf-8"))
    assert block == docs.markdown(), "README is out of date: run python -m shared.permissions.docs --write"
    for permission in load_manifest().permissions:
        assert f"`{permission.name}`" in block

"""The Microsoft Graph service principal (appId 00000003-0000-0000-c000-000000000000) of a tenant, with
the application permissions it declares as appRoles: what `appRoleAssignedTo` grants refer to.

Only the permissions a stand-in tenant needs are declared: the ones PIM Warden uses and a few it must
not hold (to exercise "superfluous"). Ids are Microsoft's published application permission ids
(concepts/permissions-reference.md, and the Microsoft Graph service principal's appRoles for the PIM
for Groups permissions, which are newer than that page's id list).
"""

from __future__ import annotations

from typing import Any

MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# A fixed object id: every tenant has its own; this one is graphsim's.
MICROSOFT_GRAPH_SP_ID = "3c1e8f7a-5b2d-4e6f-9a8b-0c1d2e3f4a5b"
# PIM Warden's dev identity as the devstack names it (shared/credentials.py DEV_SERVICE_PRINCIPAL_ID).
PIM_WARDEN_DEV_SP_ID = "2ed6e239-d71a-4e08-a2b9-e5d069b101b3"
PIM_WARDEN_DEV_APP_ID = "6d7b0ed3-de32-4333-b9e0-3adf1710a632"

APPLICATION_PERMISSIONS = {
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "CustomSecAttributeAssignment.Read.All": "3b37c5a4-1226-493d-bec3-5d6c6b866f3f",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "Group.Create": "bf7b1a76-6e77-406b-b258-bf5c7720e98f",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup": "41202f2c-f7ab-45be-b001-85c9728b9d69",
    "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup": "618b6020-bca8-4de6-99f6-ef445fa4d857",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    "RoleManagementPolicy.ReadWrite.AzureADGroup": "b38dcc4d-a239-4ed6-aa84-6c65b284f97c",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
}


def service_principal() -> dict[str, Any]:
    """The Microsoft Graph service principal as seed JSON."""
    roles = [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"Allows the app to use {name} without a signed-in user.",
            "displayName": name,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": name,
        }
        for name, role_id in sorted(APPLICATION_PERMISSIONS.items())
    ]
    return {
        "id": MICROSOFT_GRAPH_SP_ID,
        "appId": MICROSOFT_GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "appDisplayName": "Microsoft Graph",
        "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        "servicePrincipalType": "Application",
        "appRoles": roles,
        "tags": [],
    }


def pim_warden_dev_identity() -> dict[str, Any]:
    """PIM Warden's own (dev) managed identity, the principal its permissions are granted to."""
    return {
        "id": PIM_WARDEN_DEV_SP_ID,
        "appId": PIM_WARDEN_DEV_APP_ID,
        "displayName": "PIM Warden (dev)",
        "appDisplayName": "PIM Warden (dev)",
        "servicePrincipalType": "ManagedIdentity",
        "appRoles": [],
        "tags": [],
    }

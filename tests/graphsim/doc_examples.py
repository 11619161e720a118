"""Documented Graph examples that more than one test replays (each names its docs-contrib page)."""

from __future__ import annotations

from typing import Any

# directoryaudit-list.md, example 1: the one entry of the response
AUDIT: dict[str, Any] = {
    "id": "id",
    "category": "UserManagement",
    "correlationId": "da159bfb-54fa-4092-8a38-6e1fa7870e30",
    "result": "success",
    "resultReason": "Successfully added member to group",
    "activityDisplayName": "Add member to group",
    "activityDateTime": "2018-01-09T21:20:02.7215374Z",
    "loggedByService": "Core Directory",
    "initiatedBy": {
        "user": {
            "id": "728309ae-1a37-4937-9afe-e35d964db09b",
            "displayName": "Audry Oliver",
            "userPrincipalName": "bob@wingtiptoysonline.com",
            "ipAddress": "127.0.0.1",
        },
        "app": None,
    },
    "targetResources": [
        {
            "id": "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95",
            "displayName": "Example.com",
            "Type": "Group",
            "modifiedProperties": [],
            "groupType": "unifiedGroups",
        }
    ],
    "additionalDetails": [{"key": "Additional Detail Name", "value": "Additional Detail Value"}],
}

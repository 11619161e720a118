"""Anonymous GET /api/health shows a permission refusal by call and permission name, never by
Graph's message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import runtime
from shared.graph.errors import PermissionMissingError
from shared.permissions import status as permission_status
from shared.permissions.status import PermissionStatus

from .test_health import app_env, call_health

__all__ = ["app_env"]  # the fixture, used by name below

GRAPH_MESSAGE = "Insufficient privileges to complete the operation on user alice@contoso.com"


@pytest.mark.azurite
async def test_health_names_the_permission_but_not_graphs_message(
    app_env: pytest.MonkeyPatch, azurite: str
) -> None:
    app_env.setenv("PimWardenStorage", azurite)
    error = PermissionMissingError(
        403, "Authorization_RequestDenied", GRAPH_MESSAGE, request_id="req-7f3a"
    ).naming("GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo", ("Application.Read.All",))
    # What an enforcement run records: the refused call as the gateway's error text.
    refused = PermissionStatus(datetime.now(UTC), ("Application.Read.All",), (str(error),))
    await permission_status.save(runtime.state_store().cursors, refused, complete=True)

    status, body, text = await call_health()
    assert status == 503, text
    permissions = body["permissions"]
    assert isinstance(permissions, dict) and permissions["missing"] == ["Application.Read.All"]
    assert permissions["refused"] == [
        "permission missing for GET /servicePrincipals/{servicePrincipal-id}/appRoleAssignedTo: "
        "grant Application.Read.All"
    ]
    assert "Application.Read.All" in text
    assert GRAPH_MESSAGE not in text and "alice@contoso.com" not in text
    assert "Authorization_RequestDenied" not in text and "req-7f3a" not in text

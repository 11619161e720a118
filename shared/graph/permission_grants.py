"""The Graph side of `permissions grant|check`: Microsoft Graph's service principal, the app roles an
identity holds on it, and granting one (serviceprincipal-post-approleassignedto).

Run with an admin's credential, never PIM Warden's own. Reads are sent one by one (no batching):
this is a short interactive command.
"""

from __future__ import annotations

from typing import Any

from shared.graph.base import GraphBase, odata_string
from shared.graph.errors import ConflictError, NotFoundError


class AppRoleGrants(GraphBase):
    """Reads and the one write the grant command needs."""

    async def resource(self, app_id: str) -> dict[str, Any]:
        """The service principal of application `app_id` (id and appRoles); NotFoundError when absent."""
        from msgraph.generated.service_principals_with_app_id.service_principals_with_app_id_request_builder import (  # noqa: E501
            ServicePrincipalsWithAppIdRequestBuilder,
        )

        builder = ServicePrincipalsWithAppIdRequestBuilder(
            self._adapter, dict(self.client.path_parameters), app_id
        )
        return await self._get(builder, select=["id", "appId", "displayName", "appRoles"])

    async def held(self, resource_id: str, principal_id: str) -> list[dict[str, Any]]:
        """The app role assignments `principal_id` holds on the resource service principal."""
        builder = self.client.service_principals.by_service_principal_id(resource_id).app_role_assigned_to
        return await self._list(builder, filter=f"principalId eq {odata_string(principal_id)}")

    async def grant(self, resource_id: str, principal_id: str, app_role_id: str) -> bool:
        """Assign one app role; False when the identity already held it (Graph's duplicate answer)."""
        builder = self.client.service_principals.by_service_principal_id(resource_id).app_role_assigned_to
        body = {"principalId": principal_id, "resourceId": resource_id, "appRoleId": app_role_id}
        try:
            await self._write("POST", builder, body)
        except ConflictError:
            return False
        return True


__all__ = ["AppRoleGrants", "NotFoundError"]

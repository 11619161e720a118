"""An app whose app roles are all for applications has no user access to guard: reported, nothing
written, its application permissions untouched. And the run summary counts the writes made, also for
an app that fails after making some."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.testing import asgi_transport
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.storage import StateStore

from .simenv import app_by_name, gateway_for, make_services, writes_since

pytestmark = pytest.mark.azurite


def _app_only(sim: GraphSim) -> tuple[dict, str]:
    """Warehouse SSH made high-value with one app role for applications, held by a daemon app."""
    sp, daemon = app_by_name(sim, "Warehouse SSH"), app_by_name(sim, "Intranet Wiki")
    role = {"allowedMemberTypes": ["Application"], "description": "Read data", "displayName": "Data.Read",
            "id": str(uuid.uuid4()), "isEnabled": True, "origin": "Application", "value": "Data.Read"}
    sp["appRoles"], sp["tags"] = [role], [*sp["tags"], "HighValue"]
    ara = f"ara-{daemon['id']}"
    sim.tenant.app_role_assignments[ara] = {
        "id": ara, "deletedDateTime": None, "appRoleId": role["id"], "createdDateTime": "2026-01-01T00:00Z",
        "principalDisplayName": daemon["displayName"], "principalId": daemon["id"],
        "principalType": "ServicePrincipal", "resourceDisplayName": sp["displayName"], "resourceId": sp["id"],
    }
    return sp, ara


async def test_an_app_with_only_application_roles_is_reported_and_left_alone(
    sim: GraphSim, services: Services
) -> None:
    sp, ara = _app_only(sim)
    mark = len(sim.log)
    summary = await enforce(services, "timer", full=True)
    assert summary.failed == 0, [r.error for r in summary.results]
    [result] = [r for r in summary.results if r.service_principal_id == sp["id"]]
    assert result.plan is not None and result.plan.actions == () and result.applied == 0
    assert any("no user access to guard" in note for note in result.plan.notices)
    touched = [w for w in writes_since(sim, mark) if sp["id"] in w["path"]]
    assert touched == []
    assert ara in sim.tenant.app_role_assignments  # the daemon keeps its application permission
    assert sim.tenant.service_principals[sp["id"]]["appRoleAssignmentRequired"] is False
    assert not [g for g in sim.tenant.groups.values() if sp["appId"] in str(g.get("uniqueName"))]


class RefuseAssignments(httpx.AsyncBaseTransport):
    """Graph refusing every app role assignment for one app, as it refuses a role it does not know."""

    def __init__(self, sim: GraphSim, sp_id: str) -> None:
        self.inner, self.sp_id = asgi_transport(sim), sp_id.lower()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.lower()
        if request.method == "POST" and path.endswith(f"{self.sp_id}/approleassignedto"):
            body = {"error": {"code": "Request_BadRequest",
                              "message": "Permission being assigned was not found on application."}}
            return httpx.Response(400, content=json.dumps(body).encode(), request=request,
                                  headers={"content-type": "application/json"})
        return await self.inner.handle_async_request(request)


async def test_a_failed_app_that_made_writes_counts_as_changed(
    sim: GraphSim, state_store: StateStore, azurite: str
) -> None:
    sp = app_by_name(sim, "FinReport SQL")
    services = make_services(sim, state_store, azurite, graph=gateway_for(RefuseAssignments(sim, sp["id"])))
    mark = len(sim.log)
    summary = await enforce(services, "timer", only_app=sp["id"])
    [result] = summary.results
    assert summary.failed == 1 and result.error and "Permission being assigned" in result.error
    landed = writes_since(sim, mark)  # the group and its policies were written before the refusal
    assert landed and result.applied > 0
    assert summary.changed == 1 and "changed=1 " in summary.line()
    assert f"actions_applied={result.applied} " in summary.line()
    assert summary.graph_writes == len(landed) + 1  # and the refused assignment

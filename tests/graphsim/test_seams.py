"""The seams a sub-backend (graphsim/pim) plugs into, exercised with a small in-memory plugin:
seed forwarding, state dump, reset, clock ticks, routes (direct and in $batch), access checks,
and membership changes through DirectoryPort showing in members, delta and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from graphsim.app import GraphSim
from graphsim.http import Route, SimRequest, SimResponse
from graphsim.ports import DirectoryPort
from tests.graphsim.conftest import seed

USER = {"id": str(uuid.uuid4()), "displayName": "U", "userPrincipalName": "u@contoso.com"}
GROUP = {"id": str(uuid.uuid4()), "displayName": "G", "mailNickname": "g"}
SP = {
    "id": str(uuid.uuid4()),
    "appId": str(uuid.uuid4()),
    "displayName": "App",
    "appRoleAssignmentRequired": True,
}


class TimedMemberships:
    """A minimal plugin: activations that add a member until they end (through the port)."""

    def __init__(self, port: DirectoryPort) -> None:
        self.port = port
        self.active: dict[tuple[str, str], datetime] = {}
        self.schedules: list[dict[str, Any]] = []

    def routes(self) -> list[Route]:
        def activate(req: SimRequest) -> SimResponse:
            group, principal = req.body["groupId"], req.body["principalId"]
            self.active[(group, principal)] = self.port.now() + timedelta(minutes=30)
            self.port.add_member(group, principal)
            self.port.append_audit(
                {
                    "activityDisplayName": "Add member to role completed (PIM activation)",
                    "loggedByService": "PIM",
                    "category": "GroupManagement",
                    "targetResources": [{"id": group, "type": "Group"}],
                }
            )
            return SimResponse(201, {"id": self.port.new_id()})

        return [Route("POST", "/identityGovernance/test/activate", activate, "test.activate")]

    def seed(self, data: dict[str, Any]) -> None:
        self.schedules += data.get("eligibilitySchedules", [])

    def dump(self) -> dict[str, Any]:
        return {"eligibilitySchedules": list(self.schedules)}

    def reset(self) -> None:
        self.active.clear()
        self.schedules.clear()

    def tick(self, now: datetime) -> None:
        for key, until in list(self.active.items()):
            if until <= now:
                del self.active[key]
                self.port.remove_member(*key)

    def is_active_member(self, group_id: str, principal_id: str, now: datetime) -> bool:
        until = self.active.get((group_id, principal_id))
        return until is not None and until > now


def _plug(sim: GraphSim) -> TimedMemberships:
    plugin = TimedMemberships(sim.directory)
    sim.tenant.register("pim", plugin)
    for route in plugin.routes():
        sim.router.add(route)
    return plugin


async def test_seed_dump_and_reset_reach_the_plugin(sim, ctl):
    plugin = _plug(sim)
    await seed(ctl, {"eligibilitySchedules": [{"id": "s1"}]})
    assert (await ctl.get("/state")).json()["eligibilitySchedules"] == [{"id": "s1"}]
    await ctl.post("/reset")
    assert plugin.schedules == [] and sim.tenant.plugins["pim"] is plugin


async def test_activation_expires_by_the_clock_everywhere(sim, http, ctl):
    _plug(sim)
    await seed(ctl, {"users": [USER], "groups": [GROUP], "servicePrincipals": [SP]})
    assign = {
        "principalId": GROUP["id"],
        "resourceId": SP["id"],
        "appRoleId": "00000000-0000-0000-0000-000000000000",
    }
    await http.post(f"/servicePrincipals/{SP['id']}/appRoleAssignedTo", json=assign)
    link = (await http.get("/groups/delta")).json()["@odata.deltaLink"]
    batch = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": "/identityGovernance/test/activate",
                "headers": {"Content-Type": "application/json"},
                "body": {"groupId": GROUP["id"], "principalId": USER["id"]},
            }
        ]
    }
    assert (await http.post("/$batch", json=batch)).json()["responses"][0]["status"] == 201
    access = (await ctl.get("/access", params={"user": USER["id"], "app": SP["id"]})).json()
    assert access["allowed"] and "PIM" in access["reason"]
    members = (await http.get(f"/groups/{GROUP['id']}/members")).json()["value"]
    assert [m["id"] for m in members] == [USER["id"]]
    await ctl.post("/clock", json={"advance": "PT31M"})
    assert (await http.get(f"/groups/{GROUP['id']}/members")).json()["value"] == []
    assert (await ctl.get("/access", params={"user": USER["id"], "app": SP["id"]})).json()["allowed"] is False
    changes = (await http.get(link)).json()["value"]
    member_changes = next(c["members@delta"] for c in changes if c["id"] == GROUP["id"])
    assert member_changes == [
        {"@odata.type": "#microsoft.graph.user", "id": USER["id"], "@removed": {"reason": "deleted"}}
    ]
    pim = (
        await http.get("/auditLogs/directoryAudits", params={"$filter": "loggedByService eq 'PIM'"})
    ).json()
    assert [a["activityDisplayName"] for a in pim["value"]] == [
        "Add member to role completed (PIM activation)"
    ]

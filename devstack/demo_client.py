"""The other side of the demo: what a user and a portal admin do through Graph (graphsim), and what
Private Access would decide. Raw HTTP on purpose: these are not PIM Warden's code paths.

A user acts as themselves with graphsim's simulator headers (`x-graphsim-user`, `x-graphsim-mfa`),
standing in for the claims of their token (graphsim/README.md, PIM).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

PIM_GROUPS = "/v1.0/identityGovernance/privilegedAccess/group"


class DemoFailure(Exception):
    """A demo step did not behave as expected."""


def expect(condition: object, what: str) -> None:
    """Raise DemoFailure naming `what` unless `condition` holds."""
    if not condition:
        raise DemoFailure(what)


@dataclass
class DemoClient:
    """Graph as users and admins see it, plus graphsim's control plane."""

    http: httpx.AsyncClient

    @classmethod
    async def connect(cls, root: str) -> DemoClient:
        """A client for graphsim at `root` (http://host:port) holding a tenant admin's token, minted by
        graphsim's control plane (PIM Warden's own calls use its dev token: the manifest's permissions)."""
        from devstack.stack import admin_token_request

        http = httpx.AsyncClient(base_url=root, timeout=30)
        response = await http.post("/_sim/tokens", json=admin_token_request())
        response.raise_for_status()
        http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return cls(http)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def graph(self, method: str, path: str, body: Any = None, *, user: str | None = None,
                    params: dict[str, str] | None = None) -> httpx.Response:
        """One Graph request; as `user` (with MFA done) when given."""
        headers = {"x-graphsim-user": user, "x-graphsim-mfa": "true"} if user else {}
        return await self.http.request(method, f"/v1.0{path}" if not path.startswith("/v1.0") else path,
                                       json=body, headers=headers, params=params)

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        """Like graph(), raising DemoFailure on an error status; the JSON answer ({} for 204)."""
        response = await self.graph(method, path, body, **kw)
        expect(response.status_code < 300, f"{method} {path} succeeds, got {graph_error(response)}")
        return dict(response.json()) if response.content else {}

    async def user(self, upn: str) -> dict[str, Any]:
        """The user with this UPN."""
        return await self.ok("GET", f"/users/{upn}")

    async def app(self, name: str) -> dict[str, Any]:
        """The service principal with this display name."""
        found = await self.ok("GET", "/servicePrincipals", params={"$filter": f"displayName eq '{name}'"})
        expect(found.get("value"), f"service principal {name!r} exists")
        return dict(found["value"][0])

    async def access(self, user_id: str, sp_id: str) -> dict[str, Any]:
        """Would Private Access let the user in now? (graphsim's /_sim/access, with the reason)."""
        response = await self.http.get("/_sim/access", params={"user": user_id, "app": sp_id})
        response.raise_for_status()
        return dict(response.json())

    async def advance_clock(self, duration: str) -> str:
        """Move graphsim's clock on by an ISO 8601 duration; returns the new time."""
        response = await self.http.post("/_sim/clock", json={"advance": duration})
        response.raise_for_status()
        return str(response.json()["now"])

    async def sync_clock(self) -> str:
        """Bring graphsim's clock (it only moves when told) to the wall clock; returns the new time."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        response = await self.http.post("/_sim/clock", json={"now": now})
        response.raise_for_status()
        return str(response.json()["now"])

    async def eligibility(self, group_id: str, user_id: str) -> list[dict[str, Any]]:
        """The user's member eligibility schedules on the group."""
        query = f"groupId eq '{group_id}' and principalId eq '{user_id}'"
        found = await self.ok("GET", f"{PIM_GROUPS}/eligibilitySchedules", params={"$filter": query})
        return [s for s in found.get("value", []) if s.get("accessId") == "member"]

    async def activate(self, group_id: str, user_id: str, duration: str, reason: str) -> httpx.Response:
        """The user activates their membership (PIM > My roles > Groups > Activate)."""
        body = {
            "accessId": "member", "principalId": user_id, "groupId": group_id, "action": "selfActivate",
            "justification": reason,
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": duration}},
        }
        return await self.graph("POST", f"{PIM_GROUPS}/assignmentScheduleRequests", body, user=user_id)


def graph_error(response: httpx.Response) -> str:
    """Graph's error code and message from an error response."""
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text[:200]}"

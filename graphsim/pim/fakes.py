"""Test doubles for exercising the PIM backend on its own: an in-memory directory and a tiny ASGI shim.

InMemoryDirectory implements DirectoryPort with plain dicts and a settable clock, and records state
(members, owners, audit entries) for tests to assert on. `asgi_app(routes)` serves a list of Routes
with Graph's error body so the real msgraph-sdk can be pointed at the PIM routes before (and
independently of) graphsim's full app; it does no auth, paging or faults.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from graphsim.errors import GraphError
from graphsim.http import Route, SimRequest, SimResponse


class InMemoryDirectory:
    """A DirectoryPort over dicts: users, groups, members, owners, audit log, clock, ids."""

    def __init__(self, now: datetime | None = None) -> None:
        self.clock = now or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        self.objects: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        self.owners: dict[str, set[str]] = {}
        self.audit: list[dict[str, Any]] = []
        self._counter = 0

    def add_user(self, user_id: str, name: str = "User") -> None:
        """Create a user."""
        self.objects[user_id] = {
            "@odata.type": "#microsoft.graph.user",
            "id": user_id,
            "displayName": name,
            "userPrincipalName": f"{name.lower().replace(' ', '.')}@contoso.com",
        }

    def add_group(self, group_id: str, name: str = "Group", dynamic: bool = False) -> None:
        """Create a security group (dynamic when asked)."""
        self.objects[group_id] = {
            "@odata.type": "#microsoft.graph.group",
            "id": group_id,
            "displayName": name,
            "groupTypes": ["DynamicMembership"] if dynamic else [],
            "membershipRule": 'user.department -eq "x"' if dynamic else None,
            "securityEnabled": True,
            "mailEnabled": False,
        }

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward; returns the new time."""
        self.clock += delta
        return self.clock

    def now(self) -> datetime:
        return self.clock

    def new_id(self) -> str:
        self._counter += 1
        return str(uuid.UUID(int=self._counter))

    def get_group(self, group_id: str) -> dict[str, Any] | None:
        obj = self.objects.get(group_id)
        return obj if obj and obj["@odata.type"] == "#microsoft.graph.group" else None

    def policies_listed(self, group_id: str) -> bool:
        return True

    def get_directory_object(self, object_id: str) -> dict[str, Any] | None:
        return self.objects.get(object_id)

    def add_member(self, group_id: str, principal_id: str) -> None:
        self.members.setdefault(group_id, set()).add(principal_id)

    def remove_member(self, group_id: str, principal_id: str) -> None:
        self.members.get(group_id, set()).discard(principal_id)

    def add_owner(self, group_id: str, principal_id: str) -> None:
        self.owners.setdefault(group_id, set()).add(principal_id)

    def remove_owner(self, group_id: str, principal_id: str) -> None:
        self.owners.get(group_id, set()).discard(principal_id)

    def append_audit(self, entry: dict[str, Any]) -> None:
        self.audit.append(entry)

    def activities(self) -> list[str]:
        """activityDisplayName of every audit entry, oldest first."""
        return [e["activityDisplayName"] for e in self.audit]


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route whose template matches `path` segment by segment, and its path parameters."""
    parts = path.strip("/").split("/")
    for route in routes:
        template = route.template.strip("/").split("/")
        if route.method != method or len(template) != len(parts):
            continue
        params = {}
        for want, got in zip(template, parts, strict=True):
            if want.startswith("{") and want.endswith("}"):
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            return route, params
    return None


def dispatch(routes: list[Route], req: SimRequest) -> SimResponse:
    """Call the matching handler; GraphError becomes Graph's error body."""
    found = match(routes, req.method, req.path)
    if found is None:
        return SimResponse(404, _error(GraphError(404, "NotFound", f"No route for {req.method} {req.path}")))
    route, params = found
    try:
        return route.handler(
            SimRequest(req.method, req.path, req.params, req.headers, req.body, params, req.base_url)
        )
    except GraphError as exc:
        return SimResponse(exc.status, _error(exc), dict(exc.headers))


def _error(exc: GraphError) -> dict[str, Any]:
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4()),
        **exc.inner,
    }
    return {"error": {"code": exc.code, "message": exc.message, "innerError": inner}}


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def asgi_app(
    routes: list[Route], base_url: str
) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    """A minimal ASGI app serving `routes` under /v1.0 (test scaffolding, not graphsim's app)."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = object()  # handlers refuse a non-object body with 400
        params = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
        path = scope["path"].removeprefix("/v1.0")
        resp = dispatch(routes, SimRequest(scope["method"], path, params, headers, body, {}, base_url))
        payload = b"" if resp.body is None else json.dumps(resp.body).encode()
        out_headers = [(b"content-type", b"application/json")] if payload else []
        out_headers += [(k.lower().encode(), v.encode()) for k, v in resp.headers.items()]
        await send({"type": "http.response.start", "status": resp.status, "headers": out_headers})
        await send({"type": "http.response.body", "body": payload})

    return app

"""The ASGI app: HTTP in, `SimRequest` to the URL table, `SimResponse` or Graph's error body out.

Why raw ASGI (no framework): the hot path of a simple GET must stay cheap enough for thousands of
requests per second on a small machine, and the same `handle()` serves `$batch` inner requests.
`build_app()` composes the tenant, the backends, the faults, the control plane and, when
importable, the PIM sub-backend (graphsim.pim.build(port)).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
import uuid
from collections import Counter, deque
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from graphsim import batch, control, permissions
from graphsim.directory.apps import AppsBackend
from graphsim.directory.audit import calling_app
from graphsim.directory.backend import DirectoryBackend
from graphsim.directory.routes_apps import apps_routes
from graphsim.directory.routes_audit import audit_routes
from graphsim.directory.routes_groups import group_routes, user_routes
from graphsim.errors import GraphError
from graphsim.faults import Faults, unavailable
from graphsim.http import Route, SimRequest, SimResponse
from graphsim.routing import Router
from graphsim.state import Tenant
from graphsim.tokens import claims_of, roles_of

JSON_TYPE = (
    b"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)
BAD_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is "
    "of valid JSON format."
)
Scope = dict[str, Any]
# The application permissions (`roles` claim) of the request being handled; $batch inner requests share them.
CALLER_ROLES: ContextVar[frozenset[str]] = ContextVar("graphsim_caller_roles", default=frozenset())


class GraphSim:
    """The whole simulator: state, backends, faults, URL tables and observation.

    Every Graph request is authorized against graphsim.permissions from its token's `roles` claim.
    `check_permissions=False` is an opt-out for graphsim's own low-level tests only (state rules,
    OData, faults); anything that exercises PIM Warden must run with permissions checked.
    """

    def __init__(self, tenant: Tenant | None = None, *, check_permissions: bool = True) -> None:
        self.tenant = tenant or Tenant()
        self.check_permissions = check_permissions
        self.directory = DirectoryBackend(self.tenant)
        self.apps = AppsBackend(self.tenant, self.directory)
        self.faults = Faults()
        self.log: deque[dict[str, Any]] = deque(maxlen=20000)
        self.logged = 0  # requests logged so far: each entry's `seq` (GET /_sim/requests?after=N)
        self.stats: Counter[tuple[str, str, int]] = Counter()
        self.router = Router(
            [
                *user_routes(self.directory),
                *group_routes(self.directory, self.tenant),
                *apps_routes(self.apps, self.tenant),
                *audit_routes(self.tenant),
                Route("POST", "/$batch", lambda req: batch.run(req, self.handle), "$batch"),
            ]
        )
        self.control = Router(control.routes(self))
        self._mount_plugins()

    def _mount_plugins(self) -> None:
        try:
            pim = importlib.import_module("graphsim.pim")
        except ImportError:
            return
        build = getattr(pim, "build", None)
        if build is None:
            return
        backend = build(self.directory)
        self.tenant.register("pim", backend)
        for route in backend.routes():
            self.router.add(route)

    # -- the request pipeline (shared by HTTP and $batch) ------------------------------------
    def handle(self, req: SimRequest, *, inner: bool = False) -> SimResponse:
        """Route, apply faults, run the handler; every failure becomes Graph's error response."""
        name = "?"
        landed = False
        try:
            route, params = self.router.match(req.method, req.path)
            name = route.name or route.template
            roles = CALLER_ROLES.get()
            if self.check_permissions:
                permissions.authorize(route, req, roles)
            extra = self.faults.before(req, name) if name != "$batch" else {}
            resp = route.handler(_with_params(req, params))
            landed = 200 <= resp.status < 300
            if self.check_permissions:
                resp = permissions.redact(route, req, roles, resp)
            if name != "$batch" and self.faults.lose_response(req):
                raise unavailable(self.faults.rng)
            resp.headers.update(extra)
        except GraphError as err:
            resp = error_response(err, req)
        except Exception as exc:  # a simulator bug: still Graph's shape, never a bare 500 page
            resp = error_response(GraphError(500, "generalException", f"graphsim bug: {exc!r}"), req)
        self._observe(req, name, resp.status, inner, landed)
        return resp

    def _observe(self, req: SimRequest, name: str, status: int, inner: bool, landed: bool) -> None:
        self.stats[(req.method, name, status)] += 1
        self.logged += 1
        entry = {
            "seq": self.logged,
            "method": req.method,
            "path": req.path,
            "route": name,
            "status": status,
            "time": time.time(),
            "batch": inner,
        }
        if req.method in _WRITE_METHODS:
            # For tests that check every write that took effect: `landed` is true when the handler
            # succeeded, even if a fault then lost the answer; `ids` are the object ids the body names.
            entry["landed"] = landed
            entry["ids"] = _body_ids(req.body)
        self.log.append(entry)

    # -- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        host = headers.get("host", "graph.microsoft.com")
        root = f"{scope.get('scheme', 'http')}://{host}"
        if path.startswith("/_sim/"):
            resp = self._control(scope["method"], path, params, headers, body, root)
        else:
            resp = await self._graph(scope["method"], path, params, headers, body, root)
        await _send(send, resp)

    async def _graph(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str], raw: bytes, root: str
    ) -> SimResponse:
        req = SimRequest(
            method,
            path[5:] if path.startswith("/v1.0") else path,
            params,
            headers,
            None,
            base_url=f"{root}/v1.0",
        )
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if not path.startswith("/v1.0/"):
            return error_response(GraphError(400, "BadRequest", "Invalid version."), req)
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return error_response(
                GraphError(401, "InvalidAuthenticationToken", "Access token is empty."), req
            )
        try:
            req = _with_body(req, parse_json(raw))
        except GraphError as err:
            return error_response(err, req)
        claims = claims_of(auth[7:].strip())
        roles = CALLER_ROLES.set(roles_of(claims))
        try:
            with calling_app(caller_app(claims)):
                resp = self.handle(req)
        finally:
            CALLER_ROLES.reset(roles)
        if "client-request-id" in headers:
            resp.headers.setdefault("client-request-id", headers["client-request-id"])
        return resp

    def _control(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str], raw: bytes, root: str
    ) -> SimResponse:
        req = SimRequest(method, path, params, headers, None, base_url=f"{root}/v1.0")
        try:
            route, path_params = self.control.match(method, path)
            return route.handler(_with_params(_with_body(req, parse_json(raw)), path_params))
        except GraphError as err:
            return error_response(err, req)


def caller_app(claims: dict[str, Any] | None) -> dict[str, Any] | None:
    """The calling app a JWT bearer token's claims name (as Entra reads an app-only token), or None
    for an opaque token. The signature is NOT checked: what graphsim authorizes on is `roles`."""
    if not claims or not claims.get("oid"):
        return None
    return {
        "appId": claims.get("appid") or claims.get("azp"),
        "displayName": claims.get("app_displayname"),
        "servicePrincipalId": str(claims["oid"]).lower(),
        "servicePrincipalName": None,
    }


def parse_json(raw: bytes) -> Any:
    """A request body as JSON (None when empty), or Graph's 400."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise GraphError(400, "BadRequest", BAD_JSON) from None


def _with_params(req: SimRequest, params: dict[str, str]) -> SimRequest:
    return SimRequest(req.method, req.path, req.params, req.headers, req.body, params, req.base_url)


def _with_body(req: SimRequest, body: Any) -> SimRequest:
    return SimRequest(req.method, req.path, req.params, req.headers, body, req.path_params, req.base_url)


def error_response(err: GraphError, req: SimRequest) -> SimResponse:
    """Graph's error body with innerError date, request-id and client-request-id."""
    request_id = str(uuid.uuid4())
    client_id = req.header("client-request-id") or request_id
    inner = {
        **err.inner,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": client_id,
    }
    headers = {"request-id": request_id, "client-request-id": client_id, **err.headers}
    body = {"error": {"code": err.code, "message": err.message, "innerError": inner}}
    return SimResponse(err.status, body, headers)


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Any, resp: SimResponse) -> None:
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in resp.headers.items()]
    if "request-id" not in resp.headers:
        headers.append((b"request-id", str(uuid.uuid4()).encode()))
    payload = b""
    if resp.body is not None and resp.status != 204:
        if isinstance(resp.body, str):
            payload = resp.body.encode()
            headers.append((b"content-type", b"text/plain;charset=utf-8"))
        else:
            payload = json.dumps(resp.body, separators=(",", ":")).encode()
            headers.append((b"content-type", JSON_TYPE))
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build_app(tenant: Tenant | None = None, *, check_permissions: bool = True) -> GraphSim:
    """A ready ASGI app over `tenant` (a fresh empty tenant by default); see GraphSim for the opt-out."""
    return GraphSim(tenant, check_permissions=check_permissions)


_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_ID_KEYS = ("groupId", "principalId", "resourceId", "appRoleId", "action", "accessId")


def _body_ids(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        return {}
    return {key: str(body[key]) for key in _ID_KEYS if isinstance(body.get(key), str)}

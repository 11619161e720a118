"""The control plane under /_sim/: reset, seed, state, clock, faults, requests, stats, access, tokens.

Why: tests, the demo and the benchmark must set up exact state, move time, inject faults and count
calls without going through Graph's surface (and without a bearer token).
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from graphsim import seeding, tokens
from graphsim.durations import parse_duration
from graphsim.errors import GraphError
from graphsim.faults import SETTINGS as FAULT_SETTINGS
from graphsim.faults import Faults
from graphsim.http import Route, SimRequest, SimResponse
from graphsim.odata import parse_datetime

if TYPE_CHECKING:
    from graphsim.app import GraphSim

_FAULT_KEYS = frozenset(FAULT_SETTINGS)


def bad(message: str) -> GraphError:
    """A 400 from the control plane."""
    return GraphError(400, "BadRequest", message)


def routes(sim: GraphSim) -> list[Route]:
    """The control-plane URL table."""

    def reset(req: SimRequest) -> SimResponse:
        sim.tenant.reset()
        sim.faults = Faults()
        sim.log.clear()
        sim.stats.clear()
        return SimResponse(200, {"reset": True})

    def seed(req: SimRequest) -> SimResponse:
        return SimResponse(200, {"seeded": seeding.seed(sim.tenant, req.body)})

    def state(req: SimRequest) -> SimResponse:
        return SimResponse(200, seeding.dump(sim.tenant))

    def clock(req: SimRequest) -> SimResponse:
        if req.method == "POST":
            set_clock(sim, req.body)
        return SimResponse(200, {"now": sim.tenant.now.isoformat().replace("+00:00", "Z")})

    def faults(req: SimRequest) -> SimResponse:
        if req.method == "POST":
            set_faults(sim, req.body)
        return SimResponse(200, sim.faults.settings())

    def requests(req: SimRequest) -> SimResponse:
        # `?after=N`: only entries logged after sequence number N (a long run reads the log in parts)
        after = req.params.get("after", "")
        if after and not after.isdigit():
            raise bad("'after' must be a request sequence number.")
        first = int(after or 0)
        return SimResponse(200, {"requests": [e for e in sim.log if e["seq"] > first], "logged": sim.logged})

    def stats(req: SimRequest) -> SimResponse:
        return SimResponse(200, stats_of(sim.stats))

    def access(req: SimRequest) -> SimResponse:
        return SimResponse(200, check_access(sim, req.params.get("user", ""), req.params.get("app", "")))

    def token(req: SimRequest) -> SimResponse:
        return SimResponse(200, mint_token(req.body))

    table = [
        ("POST", "reset", reset),
        ("POST", "seed", seed),
        ("GET", "state", state),
        ("GET", "clock", clock),
        ("POST", "clock", clock),
        ("GET", "faults", faults),
        ("POST", "faults", faults),
        ("GET", "requests", requests),
        ("GET", "stats", stats),
        ("GET", "access", access),
        ("POST", "tokens", token),
    ]
    return [Route(method, f"/_sim/{name}", handler, f"_sim.{name}") for method, name, handler in table]


def mint_token(body: Any) -> dict[str, Any]:
    """{"client": name, "roles": [...], "appId"?, "objectId"?} -> an app-only bearer token holding exactly
    those application permissions (an empty list: a token Graph would authorize for nothing)."""
    if not isinstance(body, dict) or set(body) - {"client", "roles", "appId", "objectId"}:
        raise bad('Send {"client": "<display name>", "roles": ["Application.Read.All", ...]} '
                  '(optional "appId", "objectId").')
    client, roles = body.get("client"), body.get("roles")
    if not isinstance(client, str) or not client.strip():
        raise bad("'client' must be a non-empty display name.")
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        raise bad("'roles' must be a list of permission names.")
    ids = {key: body.get(key) for key in ("appId", "objectId")}
    for key, value in ids.items():
        if value is not None and not _is_guid(value):
            raise bad(f"'{key}' must be a GUID.")
    token = tokens.mint(roles, client=client, app_id=ids["appId"], object_id=ids["objectId"])
    return {"access_token": token, "token_type": "Bearer", "expires_in": tokens.LIFETIME_SECONDS}


def _is_guid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def set_clock(sim: GraphSim, body: Any) -> None:
    """{"advance": "PT31M"} or {"now": ISO-8601}: move the simulated clock (plugins tick)."""
    if (
        not isinstance(body, dict)
        or len(set(body) & {"advance", "now"}) != 1
        or set(body) - {"advance", "now"}
    ):
        raise bad('Send exactly one of {"advance": "PT31M"} or {"now": "2025-01-01T00:00:00Z"}.')
    try:
        if "advance" in body:
            sim.tenant.advance(parse_duration(body["advance"]))
        else:
            now = parse_datetime(body["now"])
            if now.tzinfo is None:
                raise ValueError("naive datetime")
            sim.tenant.set_now(now)
    except (ValueError, TypeError, AttributeError) as exc:
        raise bad(f"Invalid clock value: {exc}") from None


def set_faults(sim: GraphSim, body: Any) -> None:
    """Apply fault settings; unknown keys and wrong types are refused."""
    if not isinstance(body, dict) or set(body) - _FAULT_KEYS:
        raise bad(f"Fault settings must be an object with keys among {sorted(_FAULT_KEYS)}.")
    for key, value in body.items():
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if key == "throttle" and not isinstance(value, bool | dict):
            raise bad("'throttle' must be true/false or an object of limits.")
        if key == "seed" and value is not None and not isinstance(value, int):
            raise bad("'seed' must be an integer.")
        if key not in ("throttle", "seed") and (not numeric or value < 0):
            raise bad(f"'{key}' must be a non-negative number.")
        if key.endswith("_rate") and value > 1:
            raise bad(f"'{key}' must be between 0 and 1.")
    sim.faults.configure(dict(body))
    sim.tenant.replication_delay_s = float(sim.faults.replication_delay_s)
    sim.tenant.policy_replication_delay_s = float(sim.faults.policy_replication_delay_s)


def stats_of(counter: Counter[tuple[str, str, int]]) -> dict[str, Any]:
    """Counts by method, by route name, by status, and by all three."""
    by: dict[str, Counter[str]] = {"method": Counter(), "route": Counter(), "status": Counter()}
    for (method, route, status), n in counter.items():
        by["method"][method] += n
        by["route"][route] += n
        by["status"][str(status)] += n
    return {
        "total": sum(counter.values()),
        "by_method": dict(by["method"]),
        "by_route": dict(by["route"]),
        "by_status": dict(by["status"]),
        "by_request": {f"{m} {r} {s}": n for (m, r, s), n in counter.items()},
    }


def check_access(sim: GraphSim, user_id: str, app_id: str) -> dict[str, Any]:
    """Would Private Access let this user reach this app now? With the reason."""
    tenant = sim.tenant
    sp = tenant.service_principals.get(app_id) or next(
        (s for s in tenant.service_principals.values() if s.get("appId") == app_id), None
    )
    if sp is None or user_id not in tenant.users:
        raise GraphError(404, "Request_ResourceNotFound", "Unknown user or app.")
    result = {"user": user_id, "app": sp["id"], "allowed": True}
    if not sp.get("appRoleAssignmentRequired"):
        return {**result, "reason": "assignment not required"}
    assigned = [a["principalId"] for a in tenant.app_role_assignments.values() if a["resourceId"] == sp["id"]]
    if user_id in assigned:
        return {**result, "reason": "user assigned directly"}
    pim = tenant.plugins.get("pim")
    for group_id in assigned:
        if pim is not None and pim.is_active_member(group_id, user_id, tenant.now):
            return {
                **result,
                "reason": f"active PIM membership of assigned group {group_id}",
                "group": group_id,
            }
        if user_id in tenant.members.get(group_id, {}):
            return {**result, "reason": f"member of assigned group {group_id}", "group": group_id}
    return {**result, "allowed": False, "reason": "assignment required and user not assigned"}

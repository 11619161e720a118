"""Faults on demand: latency, throttling modelled on Graph's identity-and-access limits, random
503/504s, lost responses, replication delay (of new objects; of a new group's PIM policy assignments).
Everything is off until POST /_sim/faults.

Why a token bucket in resource units: Graph charges reads by cost (GET users 2, members 3, other
identity GETs 1; $select -1, $expand +1, $top < 20 -1; minimum 1) against a per-10-second budget,
writes against a separate per-150-second budget, and directory audit reads against 5 per 10 s
(docs: throttling-limits). Clients must see the same 429 + Retry-After they see in production.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from graphsim.errors import GraphError
from graphsim.http import SimRequest

# documented app+tenant figures for a small tenant, in the simulator's default scale of 1.0
READ_UNITS_PER_10S = 3500.0
WRITES_PER_150S = 3000.0
AUDIT_PER_10S = 5.0
_WRITES = {"POST", "PATCH", "PUT", "DELETE"}
# What POST /_sim/faults may set, and what GET /_sim/faults shows.
SETTINGS = (
    "latency_ms",
    "error_rate",
    "lost_response_rate",
    "replication_delay_s",
    "policy_replication_delay_s",
    "throttle",
    "read_units_per_10s",
    "writes_per_150s",
    "audit_per_10s",
    "seed",
)


@dataclass
class Bucket:
    """A token bucket refilled continuously: `capacity` tokens per `window` seconds."""

    capacity: float
    window: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, cost: float) -> float:
        """Spend `cost`; returns 0 when allowed, else the seconds until it would be."""
        now = time.monotonic()
        rate = self.capacity / self.window
        if self.tokens < 0:
            self.tokens = self.capacity
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / rate

    def used_fraction(self) -> float:
        """How much of the budget is spent (for x-ms-throttle-limit-percentage)."""
        return 1.0 - max(self.tokens, 0.0) / self.capacity


def read_cost(req: SimRequest, route_name: str) -> int:
    """Resource units of a GET, per the identity-and-access cost table."""
    path = req.path.lower()
    cost = 3 if path.endswith("/members") else 2 if path.startswith(("/users", "/applications")) else 1
    if "$select" in req.params:
        cost -= 1
    if "$expand" in req.params:
        cost += 1
    top = req.params.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(cost, 1)


@dataclass
class Faults:
    """The fault settings and their state; `before`/`after` are called around every Graph request."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    lost_response_rate: float = 0.0
    replication_delay_s: float = 0.0
    policy_replication_delay_s: float = 0.0
    throttle: bool = False
    read_units_per_10s: float = READ_UNITS_PER_10S
    writes_per_150s: float = WRITES_PER_150S
    audit_per_10s: float = AUDIT_PER_10S
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random)
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def configure(self, body: dict[str, Any]) -> None:
        """Apply a /_sim/faults body (unknown keys are refused by the caller's schema)."""
        throttle = body.pop("throttle", None)
        if isinstance(throttle, dict):
            self.throttle = bool(throttle.pop("enabled", True))
            body.update(throttle)
        elif throttle is not None:
            self.throttle = bool(throttle)
        for key, value in body.items():
            setattr(self, key, value)
        if "seed" in body:
            self.rng = random.Random(self.seed)
        self.buckets.clear()

    def settings(self) -> dict[str, Any]:
        """The current settings as JSON."""
        return {k: getattr(self, k) for k in SETTINGS}

    def before(self, req: SimRequest, route_name: str) -> dict[str, str]:
        """Raise a fault before the handler runs; returns headers to add to the response."""
        if self.error_rate and self.rng.random() < self.error_rate:
            raise unavailable(self.rng)
        if not self.throttle:
            return {}
        return self._throttle(req, route_name)

    def lose_response(self, req: SimRequest) -> bool:
        """After a successful write: should the client get a 503/504 instead of the answer?"""
        return bool(
            req.method in _WRITES and self.lost_response_rate and self.rng.random() < self.lost_response_rate
        )

    def _throttle(self, req: SimRequest, route_name: str) -> dict[str, str]:
        if req.path.lower().startswith("/auditlogs/"):
            self._spend("audit", AuditScope(self.audit_per_10s), 1, "ResourceUnitLimitExceeded")
        if req.method in _WRITES:
            self._spend("write", Scope(self.writes_per_150s, 150.0), 1, "WriteLimitExceeded")
            cost = 1
        else:
            cost = read_cost(req, route_name)
        bucket = self._spend("read", Scope(self.read_units_per_10s, 10.0), cost, "ResourceUnitLimitExceeded")
        headers = {"x-ms-resource-unit": str(cost)}
        used = bucket.used_fraction()
        if used > 0.8:
            headers["x-ms-throttle-limit-percentage"] = f"{used:.1f}"
        return headers

    def _spend(self, name: str, scope: Scope, cost: float, information: str) -> Bucket:
        bucket = self.buckets.setdefault(name, Bucket(scope.capacity, scope.window))
        wait = bucket.take(cost)
        if wait > 0:
            raise throttled(max(1, math.ceil(wait)), information)
        return bucket


@dataclass(frozen=True)
class Scope:
    capacity: float
    window: float


def AuditScope(per_10s: float) -> Scope:
    """Identity-and-access reports: a request count per 10 s."""
    return Scope(per_10s, 10.0)


def throttled(retry_after: int, information: str) -> GraphError:
    """Graph's 429 (body per the throttling docs sample) with Retry-After and x-ms-throttle headers."""
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        headers={
            "Retry-After": str(retry_after),
            "x-ms-throttle-scope": "Tenant_Application/ReadWrite/graphsim/graphsim",
            "x-ms-throttle-information": information,
        },
        inner={"code": "429", "message": "Please retry after", "status": "429"},
    )


def unavailable(rng: random.Random) -> GraphError:
    """A transient 503 or 504, as Graph sends under load."""
    if rng.random() < 0.5:
        return GraphError(
            503,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry.",
            headers={"Retry-After": "1"},
        )
    return GraphError(504, "gatewayTimeout", "The gateway did not receive a timely response.")

"""The tenant: every collection, the simulated clock, the id generator, the change log for delta,
and the registry where sub-backends (graphsim/pim) plug in.

Why one object: /_sim/reset, /_sim/seed and /_sim/state act on the whole tenant at once, and
delta queries need a single ordered log of every change in it.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from graphsim.http import Route

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
COLLECTIONS = ("users", "servicePrincipals", "groups", "appRoleAssignments")


class SubBackend(Protocol):
    """What a plugged-in backend (graphsim/pim) offers the tenant and the app."""

    def routes(self) -> list[Route]: ...

    def seed(self, data: dict[str, Any]) -> None: ...

    def dump(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...

    def tick(self, now: datetime) -> None: ...

    def is_active_member(self, group_id: str, principal_id: str, now: datetime) -> bool: ...


@dataclass
class Change:
    """One entry of the change log that delta queries read."""

    seq: int
    collection: str  # "servicePrincipals" | "groups" | "users"
    object_id: str
    kind: str  # "created" | "updated" | "deleted"
    props: frozenset[str] = frozenset()
    member_added: str | None = None
    member_removed: str | None = None


def policy_key(group_id: str) -> str:
    """The replication-visibility key of a group's PIM policy assignments."""
    return f"policies:{group_id}"


@dataclass
class Tenant:
    """All simulated state of one Entra tenant."""

    tenant_id: str = "84841066-274d-4ec0-a5c1-276be684bdd3"
    now: datetime = START
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_role_assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, None]] = field(default_factory=dict)
    owners: dict[str, dict[str, None]] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    epoch: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    hidden_until: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    replication_delay_s: float = 0.0
    policy_replication_delay_s: float = 0.0
    domain: str = "contoso.onmicrosoft.com"
    plugins: dict[str, SubBackend] = field(default_factory=dict)

    # -- clock and ids ---------------------------------------------------------------------
    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock forward and let plugins expire what ended."""
        self.set_now(self.now + delta)

    def set_now(self, now: datetime) -> None:
        """Set the simulated clock and let plugins expire what ended."""
        self.now = now
        for plugin in list(self.plugins.values()):
            plugin.tick(now)

    def new_id(self) -> str:
        """A fresh GUID, reproducible from the tenant's random seed."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self) -> str:
        """The simulated now as Graph writes datetimes (seconds, Z)."""
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- collections -----------------------------------------------------------------------
    def collection(self, name: str) -> dict[str, dict[str, Any]]:
        """A collection by its Graph name."""
        return {
            "users": self.users,
            "servicePrincipals": self.service_principals,
            "groups": self.groups,
            "appRoleAssignments": self.app_role_assignments,
        }[name]

    def directory_object(self, object_id: str) -> tuple[str, dict[str, Any]] | None:
        """(collection, object) for a user, group or service principal id."""
        for name in ("users", "groups", "servicePrincipals"):
            obj = self.collection(name).get(object_id)
            if obj is not None:
                return name, obj
        return None

    def record(self, collection: str, object_id: str, kind: str, **extra: Any) -> None:
        """Append a change to the delta log."""
        self.changes.append(Change(len(self.changes) + 1, collection, object_id, kind, **extra))

    @property
    def seq(self) -> int:
        """The sequence number of the newest change."""
        return len(self.changes)

    def changes_since(self, seq: int, upto: int) -> Iterator[Change]:
        """Changes with seq in (seq, upto]."""
        return iter(self.changes[seq:upto])

    # -- replication delay -----------------------------------------------------------------
    def hide_new(self, object_id: str) -> None:
        """Make a new object invisible to reads and references for replication_delay_s."""
        self.hide_for(object_id, self.replication_delay_s)

    def hide_policies_of_new_group(self, group_id: str) -> None:
        """A new group's PIM policy assignments are not listed for policy_replication_delay_s."""
        self.hide_for(policy_key(group_id), self.policy_replication_delay_s)

    def policies_listed(self, group_id: str) -> bool:
        """False while a new group's PIM policy assignments have not replicated yet."""
        return self.visible(policy_key(group_id))

    def hide_for(self, object_id: str, seconds: float) -> None:
        """Make a new object invisible to reads and references for a while (replication lag)."""
        if seconds > 0:
            self.hidden_until[object_id] = (time.monotonic() + seconds, self.now + timedelta(seconds=seconds))

    def visible(self, object_id: str) -> bool:
        """False while a new object has not replicated yet (by wall time or simulated time)."""
        until = self.hidden_until.get(object_id)
        if until is None:
            return True
        if time.monotonic() >= until[0] or self.now >= until[1]:
            del self.hidden_until[object_id]
            return True
        return False

    # -- whole-tenant operations -----------------------------------------------------------
    def reset(self) -> None:
        """Forget every object, rewind the clock, reset plugins."""
        fresh = Tenant(tenant_id=self.tenant_id, plugins=self.plugins)
        self.__dict__.update(fresh.__dict__)
        for plugin in self.plugins.values():
            plugin.reset()

    def register(self, name: str, plugin: SubBackend) -> None:
        """Plug in a sub-backend (its routes are mounted by the app)."""
        self.plugins[name] = plugin

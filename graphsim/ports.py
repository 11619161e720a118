"""What the PIM backend (graphsim/pim) needs from the directory backend, as a Protocol.

The directory backend (users, groups, members, service principals, audit log) implements this; the
PIM backend is given an instance and never reaches into directory state any other way. Membership
changes made through this port show in GET /groups/{id}/members, in groups/delta (members@delta)
and in /_sim/access, exactly like changes made through the groups API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class DirectoryPort(Protocol):
    def now(self) -> datetime:
        """The simulated clock (timezone-aware UTC)."""
        ...

    def new_id(self) -> str:
        """A fresh GUID string (deterministic under /_sim/faults seed)."""
        ...

    def get_group(self, group_id: str) -> dict[str, Any] | None:
        """The group's stored Graph JSON (including groupTypes, membershipRule), or None."""
        ...

    def policies_listed(self, group_id: str) -> bool:
        """False while a group created moments ago has its PIM policy assignments not yet listed
        (replication: `/_sim/faults` `policy_replication_delay_s`)."""
        ...

    def get_directory_object(self, object_id: str) -> dict[str, Any] | None:
        """A user, group or service principal's stored Graph JSON with "@odata.type", or None."""
        ...

    def add_member(self, group_id: str, principal_id: str) -> None:
        """Idempotent: make principal a member of group."""
        ...

    def remove_member(self, group_id: str, principal_id: str) -> None:
        """Idempotent: make principal no longer a member of group."""
        ...

    def add_owner(self, group_id: str, principal_id: str) -> None: ...

    def remove_owner(self, group_id: str, principal_id: str) -> None: ...

    def append_audit(self, entry: dict[str, Any]) -> None:
        """Append a directoryAudit (Graph JSON shape, id and activityDateTime filled in if missing)."""
        ...

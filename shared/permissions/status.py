"""The last known permission problems of enforcement, kept in state storage so health can show them.

Why stored: a run that was refused by Graph for a missing permission, or whose attribute selector saw
only hidden attributes, must not be a log line nobody reads. Each enforcement run replaces the record
(or removes it when the run had no such problem); `GET /api/health` reports it.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.storage import ConcurrencyError, Cursor, CursorRepo
from shared.storage.errors import AlreadyExistsError

PERMISSION_STATUS = "permission-status"


@dataclass(frozen=True)
class PermissionStatus:
    """What the last run could not do for want of a permission, and what it suspects is missing."""

    at: datetime
    missing: tuple[str, ...] = ()  # manifest permissions Graph refused calls for
    refused: tuple[str, ...] = ()  # the refused calls, as "permission missing for ...: grant ..."
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not (self.missing or self.warnings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "at": self.at.isoformat(),
            "missing": list(self.missing),
            "refused": list(self.refused),
            "warnings": list(self.warnings),
        }


async def save(cursors: CursorRepo, status: PermissionStatus) -> None:
    """Replace the stored status (remove it when all is well); a concurrent writer's record wins."""
    if status.ok:
        await cursors.delete(PERMISSION_STATUS)
        return
    value = json.dumps({k: v for k, v in status.as_dict().items() if k not in ("ok", "at")})
    current = await cursors.find(PERMISSION_STATUS)
    cursor = Cursor(PERMISSION_STATUS, value, status.at, current.etag if current else None)
    with contextlib.suppress(ConcurrencyError, AlreadyExistsError):
        await cursors.put(cursor)


async def load(cursors: CursorRepo) -> PermissionStatus | None:
    """The stored status, or None when the last run had no permission problem."""
    cursor = await cursors.find(PERMISSION_STATUS)
    if cursor is None:
        return None
    data = json.loads(cursor.value or "{}")
    return PermissionStatus(
        at=cursor.updated_at,
        missing=tuple(data.get("missing") or ()),
        refused=tuple(data.get("refused") or ()),
        warnings=tuple(data.get("warnings") or ()),
    )

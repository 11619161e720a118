"""The last known permission problems of enforcement, kept in state storage so health can show them.

Why stored: a run that was refused by Graph for a missing permission, or whose attribute selector saw
only hidden attributes, must not be a log line nobody reads. Runs add to the record; a full round
with no such problem clears it; `GET /api/health` reports it.

Health is anonymous, so a refused call is kept and shown as the call (method and path template) and
the permissions to grant only, never Graph's message (which may name tenant objects): see `shown_refusal`.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.storage import ConcurrencyError, Cursor, CursorRepo
from shared.storage.errors import AlreadyExistsError

PERMISSION_STATUS = "permission-status"
MAX_ENTRIES = 50  # per list: the record stays small however many apps were refused
# str(PermissionMissingError): "permission missing[ for CALL]: grant PERMISSIONS (Graph STATUS CODE: ...)"
_REFUSAL = re.compile(
    r"permission missing(?: for (?P<call>.*?))?: grant (?P<grant>[^()]*?)(?: \(Graph .*)?", re.DOTALL
)
UNREADABLE_REFUSAL = "permission missing: see the enforcement log for the refused call"


def shown_refusal(text: str) -> str:
    """A refused call as health may show it: the call and the permissions to grant, without Graph's
    status, code and message (text already in this form stays as it is). Text of any other shape is
    not shown at all."""
    match = _REFUSAL.fullmatch(text)
    if match is None:
        return UNREADABLE_REFUSAL
    call, grant = match.group("call"), match.group("grant")
    return f"permission missing{f' for {call}' if call else ''}: grant {grant}"


@dataclass(frozen=True)
class PermissionStatus:
    """What the last run could not do for want of a permission, and what it suspects is missing."""

    at: datetime
    missing: tuple[str, ...] = ()  # manifest permissions Graph refused calls for
    refused: tuple[str, ...] = ()  # the refused calls, as "permission missing for ...: grant ..."
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Stored, merged and shown without Graph's message, whatever the caller passed (or an older
        # record held).
        refused = tuple(sorted({shown_refusal(r) for r in self.refused}))
        object.__setattr__(self, "refused", refused)

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


async def save(cursors: CursorRepo, status: PermissionStatus, *, complete: bool) -> None:
    """Record a run's permission problems. A `complete` run (a full round over every managed app)
    replaces the record, and clears it when all was well; any other run adds its problems to it, so
    an app refused once stays visible until a full round succeeds for it. A concurrent writer wins."""
    current = await cursors.find(PERMISSION_STATUS)
    if not complete and current is not None:
        status = _merged(_decode(current), status)
    if status.ok:
        if current is not None:
            await cursors.delete(PERMISSION_STATUS)
        return
    value = json.dumps({k: v for k, v in status.as_dict().items() if k not in ("ok", "at")})
    cursor = Cursor(PERMISSION_STATUS, value, status.at, current.etag if current else None)
    with contextlib.suppress(ConcurrencyError, AlreadyExistsError):
        await cursors.put(cursor)


def _merged(old: PermissionStatus, new: PermissionStatus) -> PermissionStatus:
    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(a) | set(b)))[:MAX_ENTRIES]

    return PermissionStatus(
        at=new.at if not new.ok else old.at,
        missing=union(old.missing, new.missing),
        refused=union(old.refused, new.refused),
        warnings=union(old.warnings, new.warnings),
    )


async def load(cursors: CursorRepo) -> PermissionStatus | None:
    """The stored status, or None when no permission problem is on record."""
    cursor = await cursors.find(PERMISSION_STATUS)
    return _decode(cursor) if cursor is not None else None


def _decode(cursor: Cursor) -> PermissionStatus:
    data = json.loads(cursor.value or "{}")
    return PermissionStatus(
        at=cursor.updated_at,
        missing=tuple(data.get("missing") or ()),
        refused=tuple(data.get("refused") or ()),
        warnings=tuple(data.get("warnings") or ()),
    )

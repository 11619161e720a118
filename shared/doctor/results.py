"""What one preflight check found, and the report of a whole run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a secret
    WARN = "warn"  # works, but not as it should be (e.g. a permission nothing needs)
    FAIL = "fail"  # blocks enforcement (or the feature named)
    SKIP = "skip"  # not checked: not configured, or an earlier check failed


@dataclass(frozen=True)
class Check:
    """One line of the preflight: what was checked, the outcome, and for a failure the fix."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (the JSON output and the deep health answer)."""
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Report:
    """Every check of one run, in order."""

    checks: tuple[Check, ...]

    @property
    def blocking(self) -> tuple[Check, ...]:
        """The failures: anything here stops PIM Warden from enforcing as configured."""
        return tuple(c for c in self.checks if c.status is Status.FAIL)

    @property
    def ok(self) -> bool:
        return not self.blocking

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        counts = {s.value: sum(c.status is s for c in self.checks) for s in Status}
        return {"ok": self.ok, "counts": counts, "checks": [c.as_dict() for c in self.checks]}

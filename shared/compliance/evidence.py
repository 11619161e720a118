"""The evidence view of one app: what an auditor asks first, on one page.

Current policy versus its profile (the rule differences, computed by the rule diff and passed in),
who is eligible and until when, who is active now, when PIM Warden last enforced the app, what
drift it repaired, and the findings. Built from plain data; `to_json()` is the HTTP/CLI body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared.clock import json_default
from shared.compliance.events import AppRef, ComplianceEvent, EventKind, format_time
from shared.compliance.expiry import InstanceLike
from shared.compliance.findings import AppState, Finding

DRIFT_KINDS: Final = frozenset(
    {EventKind.POLICY_DRIFT_REPAIRED, EventKind.DIRECT_ASSIGNMENT_REMOVED, EventKind.BYPASS_MEMBER_REMOVED})
DEFAULT_DRIFT_LIMIT: Final = 100


@dataclass(frozen=True)
class PolicyDifference:
    """One rule setting where the group's PIM policy differs from the profile."""

    access_id: str
    rule_id: str
    setting: str
    profile_value: Any
    current_value: Any


@dataclass(frozen=True)
class Holder:
    """A principal holding eligibility or active membership, with its period."""

    principal_id: str
    upn: str | None
    group_id: str
    start: datetime | None
    end: datetime | None
    assignment_type: str | None = None


@dataclass(frozen=True)
class LastEnforcement:
    """The latest reconcile run for the app."""

    at: datetime
    outcome: str
    cause: str
    actions: int = 0


@dataclass(frozen=True)
class AppEvidence:
    """The evidence view of one app at `generated_at`."""

    app: AppRef
    profile: str
    generated_at: datetime
    policy_differences: tuple[PolicyDifference, ...]
    eligible: tuple[Holder, ...]
    active: tuple[Holder, ...]
    last_enforcement: LastEnforcement | None
    drift_history: tuple[ComplianceEvent, ...]
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: times as ISO-8601 UTC, events as report records."""
        last = self.last_enforcement
        return {
            "app": {"app_id": self.app.app_id, "app_name": self.app.app_name},
            "profile": self.profile,
            "generated_at": format_time(self.generated_at),
            "policy_matches_profile": not self.policy_differences,
            "policy_differences": [vars(d).copy() for d in self.policy_differences],
            "eligible": [_holder(h) for h in self.eligible],
            "active": [_holder(h) for h in self.active],
            "last_enforcement": None if last is None else {**vars(last), "at": format_time(last.at)},
            "drift_history": [e.to_record() for e in self.drift_history],
            "findings": [{**vars(f), "evidence": list(f.evidence)} for f in self.findings],
        }

    def to_json(self) -> str:
        """The view as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False, default=json_default)


def build_evidence(
    app: AppRef,
    profile: str,
    now: datetime,
    state: AppState,
    *,
    differences: Iterable[PolicyDifference] = (),
    last_enforcement: LastEnforcement | None = None,
    history: Iterable[ComplianceEvent] = (),
    findings: Iterable[Finding] = (),
    drift_limit: int = DEFAULT_DRIFT_LIMIT,
) -> AppEvidence:
    """Assemble the view: holders sorted by end, drift history newest first (at most `drift_limit`)."""
    drift = sorted((e for e in history if e.event in DRIFT_KINDS), key=lambda e: e.time, reverse=True)
    return AppEvidence(
        app=app, profile=profile, generated_at=now, policy_differences=tuple(differences),
        eligible=_holders(state.eligibilities, state, now),
        active=_holders(state.active, state, now),
        last_enforcement=last_enforcement, drift_history=tuple(drift[:drift_limit]),
        findings=tuple(findings),
    )


def _holders(instances: Iterable[InstanceLike], state: AppState, now: datetime) -> tuple[Holder, ...]:
    current = [i for i in instances if i.end is None or now < i.end]
    held = [
        Holder(i.principal_id, state.upns.get(i.principal_id), i.group_id, i.start, i.end,
               _assignment_type(i))
        for i in current
    ]
    return tuple(sorted(held, key=lambda h: (h.end is None, h.end or now, h.principal_id)))


def _assignment_type(instance: InstanceLike) -> str | None:
    value = getattr(instance, "assignment_type", None)
    return None if value is None else str(value)


def _holder(holder: Holder) -> dict[str, Any]:
    return {
        **vars(holder),
        "start": format_time(holder.start) if holder.start else None,
        "end": format_time(holder.end) if holder.end else None,
    }

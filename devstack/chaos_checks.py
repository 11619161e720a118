"""The end state a chaos run must reach, measured: groups per app role, grants of each role, the
revoked user, the audit trail against graphsim's record of writes, and the figures `make chaos`
prints."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.audit_trail import check_trail
from shared.domain.ids import AppId, AppRoleId
from shared.domain.naming import unique_name
from shared.storage import AuditEvent, StateStore

LOG_LIMIT = 20000  # graphsim keeps this many requests; a longer run could not be checked in full


@dataclass
class Figures:
    """What one chaos run came to (the figures `make chaos` prints)."""

    seed: int
    rounds: int
    cli_runs: int = 0
    kills: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    revoke_exit: int = -1
    final_apply_exit: int = -1
    plan_exit: int = -1
    second_apply_writes: int = -1
    apps: int = 0
    duplicate_groups: int = 0
    roles_without_one_group: int = 0
    roles_granted_by_other_groups: int = 0
    revoked_still_eligible: int = 0
    revoked_was_eligible: bool = False  # PIM made the revoked user eligible before the revoke
    landed_writes: int = 0
    writes_without_audit: int = 0
    unattributed_writes: int = 0
    pending_rows: int = 0
    log_overflow: bool = False
    elapsed_s: float = 0.0

    def report(self) -> dict[str, Any]:
        return {**{k: v for k, v in vars(self).items() if k != "faults"}, "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()), "elapsed_s": round(self.elapsed_s, 1)}

    def problems(self) -> list[str]:
        """Everything that did not hold (empty: the run passed)."""
        zero = ("duplicate_groups", "roles_without_one_group", "roles_granted_by_other_groups",
                "revoked_still_eligible", "writes_without_audit", "unattributed_writes", "pending_rows",
                "revoke_exit", "final_apply_exit", "plan_exit", "second_apply_writes")
        found = [f"{name} = {getattr(self, name)} (want 0)" for name in zero if getattr(self, name) != 0]
        if self.apps == 0:
            found.append("no managed app at the end")
        if self.log_overflow:
            found.append(f"graphsim's request log overflowed ({LOG_LIMIT}): use fewer rounds")
        return found


async def check_end_state(
    storage: str, prefix: str, state: dict[str, Any], requests: list[dict[str, Any]], revoked: str,
    figures: Figures,
) -> None:
    """Fill `figures` from graphsim's state and request log and from the tables."""
    store = StateStore.from_connection_string(storage, prefix)
    try:
        records = [a for a in await store.apps.list() if a.role_groups]
        now = datetime.now(UTC)
        rows: list[AuditEvent] = []
        for record in records:
            rows += await store.audit.query(record.app_id, now - timedelta(days=1), now + timedelta(days=1))
    finally:
        await store.close()
    figures.apps = len(records)
    _check_groups(state, {r.app_id: dict(r.role_groups) for r in records}, figures)
    figures.revoked_still_eligible = sum(
        1 for e in state.get("eligibilitySchedules", [])
        if e.get("principalId") == revoked and e.get("accessId") == "member")
    figures.revoked_was_eligible = any(
        r.get("landed") and (r.get("ids") or {}).get("principalId") == revoked
        and (r.get("ids") or {}).get("action") == "adminAssign" for r in requests)
    trail = check_trail(requests, state["groups"], rows)
    figures.landed_writes, figures.writes_without_audit = trail.landed, len(trail.missing)
    figures.unattributed_writes, figures.pending_rows = len(trail.unmapped), trail.pending
    figures.log_overflow = len(requests) >= LOG_LIMIT


def _check_groups(state: dict[str, Any], recorded: dict[str, dict[str, str]], figures: Figures) -> None:
    sps = {sp["id"]: sp for sp in state["servicePrincipals"]}
    ours = [g for g in state["groups"] if str(g.get("uniqueName") or "").startswith("pimwarden-")]
    by_name: Counter[str] = Counter(str(g["uniqueName"]) for g in ours)
    figures.duplicate_groups = sum(n - 1 for n in by_name.values()) + _unexpected(ours, recorded, sps)
    granted: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    ours_ids = {g["id"] for g in ours}
    for a in state["appRoleAssignments"]:
        if a.get("principalId") in ours_ids:
            granted[(a["resourceId"], a["appRoleId"])].add(a["principalId"])
    for sp_id, roles in recorded.items():
        for role, group in roles.items():
            name = unique_name(AppId(sps[sp_id]["appId"]), AppRoleId(role)) if sp_id in sps else ""
            if by_name.get(name) != 1:
                figures.roles_without_one_group += 1
            if granted.get((sp_id, role), set()) != {group}:
                figures.roles_granted_by_other_groups += 1


def _unexpected(ours: list[dict[str, Any]], recorded: dict[str, dict[str, str]], sps: dict[str, Any]) -> int:
    """Our groups whose uniqueName no recorded app role has (a second group under another name)."""
    expected = {unique_name(AppId(sps[sp]["appId"]), AppRoleId(role))
                for sp, roles in recorded.items() if sp in sps for role in roles}
    return sum(1 for g in ours if g["uniqueName"] not in expected)

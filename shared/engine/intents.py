"""Intent-first audit: every write of a reconcile has its audit row BEFORE it is sent.

A process can die between a Graph write and the audit row that records it; the next run then finds
the object already right and has nothing to record, and the trail has a hole. So the rows of one
reconcile (its drift findings and one intent per planned action, outcome `pending`) are stored
first, in one entity-group transaction, and each intent gets its outcome right after its write (the
intents of actions one request carried, e.g. rule corrections of one policy, in one storage write).

A row a crash left `pending` is resolved by the app's next (non-dry) reconcile, from what Graph
shows as the planner reads it: an action the new plan no longer needs is in place, so its write
landed (`applied`); an action the new plan still needs did not take effect (`not_applied`), and the
new attempt is recorded by a row of its own. "applied" here means the intended state is in place:
Graph does not say whether our write or something before it put it there. Ids are deterministic per
(reconcile, plan, action), so a retried store of the same intents writes the same rows, and two
reconciles never share one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.clock import Clock
from shared.domain.actions import Action, Plan
from shared.domain.model import ObservedApp
from shared.engine.record import EVENT_NAMES, action_event, drift_event, target_of
from shared.storage import AuditEvent, AuditLog
from shared.storage.audit import PENDING, intent_id

APPLIED, NOT_APPLIED = "applied", "not_applied"
RESOLVED_BY = (
    "resolved by a later run: applied = Graph showed the intended state (the write landed, or nothing "
    "needed writing); not_applied = Graph did not show it and the action was planned again"
)


def plan_fingerprint(plan: Plan) -> str:
    """A short digest of the whole plan (actions and drift)."""
    text = json.dumps(plan.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class WriteLog:
    """The audit rows of one reconcile's plan: stored before any write, completed after each."""

    def __init__(
        self, audit: AuditLog, clock: Clock, plan: Plan, observed: ObservedApp, cause: str, now: datetime
    ) -> None:
        self._audit, self._clock, self._plan = audit, clock, plan
        self._observed, self._cause, self._now = observed, cause, now
        self._intents: dict[int, AuditEvent] = {}
        self._closed: set[int] = set()  # id() of actions whose intent has its outcome
        self._run = uuid.uuid4().hex  # this reconcile: its rows never collide with another run's

    async def open(self) -> None:
        """Store the drift findings and a `pending` intent per action, in plan order."""
        sp_id, fingerprint = self._plan.service_principal_id, plan_fingerprint(self._plan)
        rows: list[AuditEvent] = []
        for drift in self._plan.drift:
            event = drift_event(sp_id, drift, self._cause, self._now)
            rows.append(replace(event, event_id=self._id(len(rows), fingerprint, event)))
        for action in self._plan.actions:
            event = action_event(sp_id, action, self._observed, self._cause, self._now, PENDING)
            event = replace(event, event_id=self._id(len(rows), fingerprint, event))
            self._intents[id(action)] = event
            rows.append(event)
        if rows:
            await self._audit.record(rows)

    def _id(self, index: int, fingerprint: str, event: AuditEvent) -> str:
        key = f"{event.app_id}|{self._run}|{fingerprint}|{event.action}|{event.target}"
        return intent_id(self._now, index, key)

    def closed(self, action: Action) -> bool:
        """Whether `action`'s intent already has its outcome."""
        return id(action) in self._closed

    async def close(
        self, actions: Sequence[Action], outcome: str, pim_requests: Mapping[int, str] | None = None
    ) -> None:
        """Give the intents of `actions` (carried by ONE Graph request, so done at one moment) their
        outcome, and PIM's request id where PIM answered one (`pim_requests`: id(action) -> id): one
        storage write (all rows share the reconcile's partition)."""
        done = []
        for action in actions:
            intent, request_id = self._intents[id(action)], (pim_requests or {}).get(id(action))
            after = None
            if request_id:
                after = json.dumps({**json.loads(intent.after or "{}"), "pim_request_id": request_id},
                                   sort_keys=True, separators=(",", ":"))
            done.append((intent, outcome, after))
            self._closed.add(id(action))
        await self._audit.complete(done, self._clock.now())


async def resolve_pending(audit: AuditLog, plan: Plan, now: datetime) -> list[tuple[AuditEvent, str]]:
    """Complete the app's intents a crash left `pending`, judged by `plan` (made from what Graph
    shows now); returns each with the outcome it got."""
    pending = await audit.pending(plan.service_principal_id, now)
    if not pending:
        return []
    still_needed = {_match(EVENT_NAMES[a.kind], target_of(a), a.to_dict()) for a in plan.actions}
    resolved = [
        (row, NOT_APPLIED if _match(row.action, row.target, _loads(row.after)) in still_needed else APPLIED)
        for row in pending
    ]
    await audit.complete([(row, outcome, None) for row, outcome in resolved], now, resolution=RESOLVED_BY)
    return resolved


def _match(event: str, target: str, data: Mapping[str, Any]) -> tuple[str, str, str]:
    # The target names the object; a policy rule's target does not say which policy (member, owner).
    return event, target, str(data.get("access_id") or "")


def _loads(text: str | None) -> Mapping[str, Any]:
    try:
        loaded = json.loads(text or "{}")
    except ValueError:  # a truncated document: match on the target alone
        return {}
    return loaded if isinstance(loaded, dict) else {}

"""GET /api/requests/{id}: what became of a request, read back from PIM before it is called applied.

A grant is `applied` only once PIM shows the user eligible on the app's group (read with
`group_pim_state`, not assumed from the engine's say-so); a revoke once PIM no longer shows them (or
another open ticket still covers them); a registration once the app's record is managed and
reconciled after the request. The PIM schedule request id is taken from the engine's audit entry for
the grant when it records one. Results that are final are written back, so the next look is a point
read.

The route is open to any Functions key holder (the ticket systems hold one), so it answers only what a
sender needs to follow its own request (`sender_view`): what was decided, the times, PIM's outcome and
request id, why it was refused or ignored. Object ids of users and groups, grant ids, other tickets
covering the same user and the engine's error text stay in the operator API.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from shared.api.answers import Answer, Refusal
from shared.api.request_ids import parse_request_id
from shared.api.wiring import ApiServices
from shared.clock import iso_time, iso_time_or_none
from shared.domain.ids import GroupId
from shared.storage import AppStatus, ConcurrencyError, InboundRequest, RequestStatus, UnreadableRecordError
from shared.telemetry.messaging import grant_read_back


async def request_status(api: ApiServices, rid: str) -> Answer:
    """The request's status, checked against PIM while it is pending."""
    try:
        source, key = parse_request_id(rid)
        record = await api.engine.store.requests.find(source, key)
    except ValueError:
        record = None
    if record is None:
        raise Refusal(404, "unknown_request", "no request with this id")
    facts = json.loads(record.decision or "{}")
    status, detail = record.status, dict(facts)
    if status is RequestStatus.PENDING and record.answer_status is not None:
        status, detail = await _check(api, record, facts)
        if status is not RequestStatus.PENDING:
            await _remember(api, record, status, detail)
            if status is RequestStatus.APPLIED and facts.get("kind") == "grant":
                grant_read_back(source, api.engine.clock.now() - record.created)
    body: dict[str, Any] = {
        "request_id": rid,
        "source": source,
        "status": status.value,
        "received": iso_time(record.created),
        "detail": sender_view(detail),
    }
    if record.status is RequestStatus.REFUSED:
        refused = json.loads(record.answer_body or "{}")
        body["refused"] = {k: refused[k] for k in _REFUSAL_FIELDS if k in refused}
    return Answer(200, body)


_DETAIL_FIELDS = ("kind", "app", "role", "profile", "starts", "ends", "reason")
_PIM_FIELDS = ("eligible", "start", "end", "request_id")
_REFUSAL_FIELDS = ("error_code", "message", "errors")


def sender_view(detail: dict[str, Any]) -> dict[str, Any]:
    """The part of a request's facts its sender may see (allow-list; see the module doc)."""
    view = {k: detail[k] for k in _DETAIL_FIELDS if k in detail}
    if isinstance(detail.get("pim"), dict):
        view["pim"] = {k: detail["pim"][k] for k in _PIM_FIELDS if k in detail["pim"]}
    if "still_covered_by" in detail:
        view["still_covered"] = bool(detail["still_covered_by"])
    if detail.get("last_error"):
        view["problem"] = "the last reconcile of the app failed; operators see why in /api/apps/{appId}"
    return view


async def _check(
    api: ApiServices, record: InboundRequest, facts: dict[str, Any]
) -> tuple[RequestStatus, dict[str, Any]]:
    kind = facts.get("kind")
    try:
        app = await api.engine.store.apps.find(str(facts.get("app", "")))
    except UnreadableRecordError as error:  # the app's row is reported elsewhere; PIM is still read
        app, facts = None, {**facts, "app_state": f"state_unreadable ({error.property})"}
    if app is not None and app.last_error and app.last_reconcile and app.last_reconcile >= record.created:
        facts = {**facts, "last_error": app.last_error}
    if kind in ("register", "deregister"):
        done = app is not None and app.last_reconcile is not None and app.last_reconcile >= record.created
        return (
            RequestStatus.APPLIED
            if done and app and app.status is not AppStatus.ERROR
            else RequestStatus.PENDING
        ), facts
    group = app.role_groups.get(str(facts.get("role", ""))) if app else None
    if kind == "revoke" and facts.get("still_covered_by"):
        return RequestStatus.APPLIED, facts
    if app is None or (group is None and kind == "grant"):
        return RequestStatus.PENDING, facts
    eligible = await _eligible(
        api,
        list(app.role_groups.values()) if kind == "revoke" else [group or ""],
        str(facts.get("principal")),
    )
    if kind == "grant" and eligible is not None:
        return RequestStatus.APPLIED, {**facts, "pim": {**eligible, **await _pim_request(api, record, facts)}}
    if kind == "revoke" and eligible is None:
        return RequestStatus.APPLIED, {**facts, "pim": {"eligible": False}}
    return RequestStatus.PENDING, facts


async def _eligible(api: ApiServices, groups: list[str], principal: str) -> dict[str, Any] | None:
    for group in groups:
        state = await api.engine.graph.group_pim_state(GroupId(group))
        for item in state.eligibilities:
            if item.principal_id == principal:
                return {
                    "eligible": True,
                    "group": group,
                    "start": iso_time(item.start),
                    "end": iso_time_or_none(item.end),
                }
    return None


async def _pim_request(api: ApiServices, record: InboundRequest, facts: dict[str, Any]) -> dict[str, Any]:
    """The PIM request id from the engine's EligibilityGranted audit entry, when it records one."""
    now = api.engine.clock.now()
    events = await api.engine.store.audit.query(
        str(facts["app"]), record.created - timedelta(minutes=1), now + timedelta(minutes=1)
    )
    for event in reversed(events):
        after = json.loads(event.after or "{}") if event.action == "EligibilityGranted" else {}
        if after.get("principal_id") == facts.get("principal"):
            return {"request_id": after.get("pim_request_id"), "audit_event": event.event_id}
    return {"request_id": None}


async def _remember(
    api: ApiServices, record: InboundRequest, status: RequestStatus, detail: dict[str, Any]
) -> None:
    with contextlib.suppress(ConcurrencyError):  # someone else wrote it first; the next look reads theirs
        await api.engine.store.requests.update(
            replace(record, status=status, decision=json.dumps(detail), updated=api.engine.clock.now())
        )

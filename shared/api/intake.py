"""POST /api/tickets/{source}: from raw bytes to a recorded desired change, in a fixed order of gates.

    unknown source 404 -> size 413 -> content type 415 -> signature over the raw bytes 401
    -> JSON + adapter 400 -> delivery recorded (insert-if-absent) 503 if storage is down
    -> repeat? stored answer 200 / reused id 422 / in flight 409 -> guardrails 422 / 403
    -> desired change recorded, app queued for reconcile -> 202 with a request id and status URL

Nothing before "delivery recorded" writes anything, so a rejected request leaves no trace in storage
or Graph. A delivery whose processing died half-way (recorded, never answered) is taken over by a
retry after `TAKEOVER_AFTER`; every later step is idempotent (deterministic grant ids, upserts).
Concurrent and reused ids follow draft-ietf-httpapi-idempotency-key-header: 409 while the first is
in flight, 422 for the same id with a different body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError

from shared.api.answers import Answer, Refusal, unavailable, unavailable_for
from shared.api.changes import Outcome, apply_decision
from shared.api.event_time import event_time
from shared.api.reconcile_queue import ReconcileMessage
from shared.api.request_ids import request_id, status_url
from shared.api.ticket_gates import authenticate, check_envelope, decide
from shared.api.wiring import ApiServices
from shared.graph.errors import GraphError
from shared.storage import (
    TENANT_SCOPE,
    AuditEvent,
    ConcurrencyError,
    InboundRequest,
    RequestStatus,
    StorageError,
)
from shared.tickets.decisions import Decision
from shared.tickets.delivery import body_fingerprint, delivery_key, delivery_reference

log = logging.getLogger("pimwarden.tickets")
TAKEOVER_AFTER = timedelta(seconds=30)


async def receive_ticket(api: ApiServices, source: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """Handle one webhook delivery; always an Answer (never an exception for a client's mistake)."""
    try:
        check_envelope(source, headers, body)
        verified = authenticate(api, source, headers, body)
        decision = decide(api, source, body)
        key = delivery_key(verified.scheme, headers, body)
        happened = event_time(source, verified, body, api.engine.clock.now())
        return await _once(api, source, key, headers, body, Stamped(decision, happened))
    except Refusal as refusal:
        return refusal.answer()


async def _once(
    api: ApiServices, source: str, key: str, headers: Mapping[str, str], body: bytes, decision: Stamped
) -> Answer:
    now = api.engine.clock.now()
    described = _describe(decision.decision)
    fresh = InboundRequest(source, key, body_fingerprint(body), now, now, decision=described)
    try:
        stored, created = await api.engine.store.requests.record(fresh)
    except (StorageError, AzureError) as error:
        log.warning("ticket %s: storage unavailable before recording (%s)", source, type(error).__name__)
        raise unavailable() from error
    rid = request_id(source, key)
    if not created:
        stored = await _repeat(api, stored, fresh, rid, now)
    log.info("ticket %s request=%s reference=%s", source, rid, delivery_reference(headers) or "-")
    return await _first(api, stored, decision, rid, now)


async def _repeat(
    api: ApiServices, stored: InboundRequest, fresh: InboundRequest, rid: str, now: datetime
) -> InboundRequest:
    """A delivery seen before: raise the stored answer, or return the record when taking it over."""
    if stored.body_hash != fresh.body_hash:
        await _audit_reuse(api, stored, now)
        raise Refusal(422, "delivery_id_reused", "this delivery id was used before with a different body")
    if stored.answer_status is not None:
        body = {**json.loads(stored.answer_body or "{}"), "duplicate": True}
        raise _Stored(Answer(200, body))
    if now - stored.updated < TAKEOVER_AFTER:
        raise Refusal(
            409,
            "delivery_in_progress",
            "this delivery is being processed",
            headers={"Retry-After": str(int(TAKEOVER_AFTER.total_seconds()))},
        )
    try:
        return await api.engine.store.requests.update(replace(stored, updated=now))
    except ConcurrencyError:
        raise Refusal(409, "delivery_in_progress", headers={"Retry-After": "30"}) from None


@dataclass(frozen=True)
class Stamped:
    """A decision with the time its event happened (see shared.api.event_time)."""

    decision: Decision
    at: datetime


class _Stored(Refusal):
    """The stored answer of a repeat, raised through the same path as refusals."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status, "duplicate")
        self._answer = answer

    def answer(self) -> Answer:
        return self._answer


async def _first(
    api: ApiServices, record: InboundRequest, decision: Stamped, rid: str, now: datetime
) -> Answer:
    try:
        outcome = await apply_decision(api, record.source, decision.decision, now, happened=decision.at)
    except Refusal as refusal:
        if refusal.status >= 500:
            raise
        outcome = Outcome(RequestStatus.REFUSED, refusal.status, refusal.body())
    except (StorageError, AzureError, GraphError) as error:
        log.warning("ticket %s: %s after recording; a retry takes over", record.source, type(error).__name__)
        raise unavailable_for(error) from error
    answer = _answer(outcome, rid)
    try:
        await _finish(api, record, outcome, answer, now)
    except (StorageError, AzureError) as error:
        log.warning("ticket %s: storage failed while answering (%s)", record.source, type(error).__name__)
        raise unavailable() from error
    return answer


def _answer(outcome: Outcome, rid: str) -> Answer:
    body: dict[str, Any] = {"request_id": rid, "status": outcome.status.value, "status_url": status_url(rid)}
    if outcome.status is RequestStatus.REFUSED:
        body.update(outcome.facts)
    else:
        body["decision"] = _sender_decision(outcome.facts)
    headers = {"Location": status_url(rid)} if outcome.http == 202 else {}
    return Answer(outcome.http, body, headers)


def _sender_decision(facts: dict[str, Any]) -> dict[str, Any]:
    """The decision as its sender sees it: whether another ticket still covers the user, not which
    (another ticket's number is not the sender's to know; operators see it in /api/apps)."""
    if "still_covered_by" not in facts:
        return facts
    shown = {k: v for k, v in facts.items() if k != "still_covered_by"}
    return {**shown, "still_covered": bool(facts["still_covered_by"])}


async def _finish(
    api: ApiServices, record: InboundRequest, outcome: Outcome, answer: Answer, now: datetime
) -> None:
    store = api.engine.store
    done = replace(
        record,
        status=outcome.status,
        answer_status=answer.status,
        updated=now,
        answer_body=json.dumps(answer.body),
        app_id=outcome.app_id,
        decision=json.dumps(outcome.facts),
    )
    cause = f"ticket:{record.source}"
    if outcome.status is RequestStatus.REFUSED:
        await store.audit.append(
            AuditEvent(
                when=now,
                app_id=outcome.app_id or TENANT_SCOPE,
                action="TicketRefused",
                cause=cause,
                target=record.delivery_id,
                outcome="refused",
                detail=str(outcome.facts.get("error_code", "")),
            )
        )
    await store.requests.update(done)
    if outcome.status is RequestStatus.PENDING and outcome.app_id:
        await _enqueue(
            api,
            ReconcileMessage(cause, outcome.app_id, request=request_id(record.source, record.delivery_id)),
        )


async def _enqueue(api: ApiServices, message: ReconcileMessage) -> None:
    try:
        await api.queue.send(message)
    except (AzureError, OSError) as error:  # the app is on the due list: the next tick reconciles it
        log.warning(
            "reconcile queue unavailable (%s); the next timer tick picks the app up", type(error).__name__
        )


async def _audit_reuse(api: ApiServices, stored: InboundRequest, now: datetime) -> None:
    try:
        await api.engine.store.audit.append(
            AuditEvent(
                when=now,
                app_id=stored.app_id or TENANT_SCOPE,
                action="DeliveryIdReused",
                cause=f"ticket:{stored.source}",
                target=stored.delivery_id,
                outcome="refused",
                detail="same delivery id, different body",
            )
        )
    except (StorageError, AzureError) as error:
        log.warning("could not audit a reused delivery id (%s)", type(error).__name__)


def _describe(decision: Decision) -> str:
    return json.dumps({"kind": type(decision).__name__})

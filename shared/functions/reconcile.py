"""Queue triggers `reconcile` and `reconcile_poison`: the worker half of every fanned-out tick, webhook
and operator re-sync (thin: parse, call the engine, log). Imports of the engine happen on first use.

A message names one app (reconcile it: shared/engine/worker.py) or none (gather and enqueue: a full
re-sync asked through the API, shared/engine/fanout.py). A malformed message is logged and dropped
(retrying cannot help). An app that ends transient raises, so the host delivers the message again
after host.json's `visibilityTimeout`; after `maxDequeueCount` attempts the host moves it to
`pimwarden-reconcile-poison`, whose trigger records it on the app, in the audit table and in health.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from shared.queue_names import MAX_DEQUEUE_COUNT, POISON_QUEUE, RECONCILE_QUEUE

if TYPE_CHECKING:
    from shared.api.reconcile_queue import ReconcileMessage
    from shared.api.wiring import ApiServices
    from shared.storage.ticks import TickProgress

bp = func.Blueprint()  # type: ignore[no-untyped-call]
log = logging.getLogger("pimwarden.reconcile")


@bp.queue_trigger(arg_name="msg", queue_name=RECONCILE_QUEUE, connection="PimWardenStorage")
async def reconcile(msg: func.QueueMessage) -> None:
    """Reconcile the app the message names (or gather and enqueue every due app)."""
    from shared.telemetry.messaging import queue_span

    message = _parse(msg)
    if message is None:
        return
    with queue_span(RECONCILE_QUEUE, msg.id, msg.dequeue_count, message.traceparent):
        await run_message(message)


@bp.queue_trigger(arg_name="msg", queue_name=POISON_QUEUE, connection="PimWardenStorage")
async def reconcile_poison(msg: func.QueueMessage) -> None:
    """Record a reconcile message the host gave up on (never retried from here: it would loop)."""
    from shared.api import wiring
    from shared.engine.worker import Poisoned, record_poisoned

    message = _parse(msg)
    if message is None:
        return
    api = wiring.current()
    poisoned = Poisoned(message.cause, message.app, message.tick, MAX_DEQUEUE_COUNT)
    await record_poisoned(api.engine, poisoned, tick_progress(api))


async def run_message(message: ReconcileMessage) -> None:
    """Run the engine for one message; RetryLater (raised) hands a transient outcome back to the queue."""
    from shared.api import wiring
    from shared.engine.fanout import dispatch
    from shared.engine.worker import reconcile_one

    api = wiring.current()
    if message.app is None:
        summary = await dispatch(api.engine, api.queue, message.cause, full=message.full)
        log.info("%s", summary.line())
        return
    result = await reconcile_one(api.engine, message.app, message.cause, tick_id=message.tick,
                                 progress=tick_progress(api))
    log.info("reconcile app=%s outcome=%s applied=%d tick=%s", result.service_principal_id,
             result.outcome.value, result.applied, message.tick or "-")


def tick_progress(api: ApiServices) -> TickProgress:
    """This process's tick counters (one row per tick and process), built on first use."""
    from shared.storage.ticks import TickProgress

    if api.progress is None:
        api.progress = TickProgress(api.engine.store.ticks, api.engine.holder)
    return api.progress


def _parse(msg: func.QueueMessage) -> ReconcileMessage | None:
    from shared.api.reconcile_queue import ReconcileMessage

    try:
        return ReconcileMessage.from_json(msg.get_body().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        log.warning("dropped a malformed reconcile message id=%s", msg.id)
        return None

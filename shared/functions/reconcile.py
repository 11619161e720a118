"""Queue trigger `reconcile`: the background half of webhooks and operator re-syncs (thin: parse, engine).

Messages are base64 JSON (`shared.api.reconcile_queue`); the same `enforce()` the timer runs, for one
app or for all. A malformed message is logged and dropped (retrying it cannot help); an engine failure
raises, so the host retries and finally moves the message to `pimwarden-reconcile-poison`.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.api import wiring
from shared.api.reconcile_queue import RECONCILE_QUEUE, ReconcileMessage
from shared.engine.run import RunSummary, enforce
from shared.telemetry.messaging import queue_span

bp = func.Blueprint()  # type: ignore[no-untyped-call]
log = logging.getLogger("pimwarden.reconcile")


@bp.queue_trigger(arg_name="msg", queue_name=RECONCILE_QUEUE, connection="PimWardenStorage")
async def reconcile(msg: func.QueueMessage) -> None:
    """Reconcile the app (or every app) the message names."""
    try:
        message = ReconcileMessage.from_json(msg.get_body().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        log.warning("dropped a malformed reconcile message id=%s", msg.id)
        return
    with queue_span(RECONCILE_QUEUE, msg.id, msg.dequeue_count, message.traceparent):
        summary = await run_message(message)
        log.info("%s", summary.line())


async def run_message(message: ReconcileMessage) -> RunSummary:
    """Run the engine for one message."""
    engine = wiring.current().engine
    return await enforce(engine, message.cause, only_app=message.app, full=message.full)

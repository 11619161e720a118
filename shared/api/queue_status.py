"""The reconcile queue as operators see it: the latest fanned-out tick's progress and the messages the
queue gave up on. `/api/apps` (operator role) shows all of it; anonymous health shows counts only
(no app ids, no causes: a cause may name an operator)."""

from __future__ import annotations

from typing import Any

from shared.engine.services import Services
from shared.engine.tick_view import tick_dict
from shared.engine.worker import poison_summary


async def queue_status(services: Services) -> dict[str, Any]:
    """{"latest_tick": ..., "poisoned": ...} for operators (None where nothing was recorded)."""
    tick = await services.store.ticks.latest()
    return {"latest_tick": tick_dict(tick) if tick else None, "poisoned": await poison_summary(services)}


def anonymous_view(status: dict[str, Any]) -> dict[str, Any]:
    """What health may show of `queue_status` to anyone."""
    tick, poisoned = status.get("latest_tick"), status.get("poisoned")
    shown_tick = None if tick is None else {k: tick[k] for k in (
        "started", "apps_enqueued", "apps_done", "apps_failed", "apps_poisoned", "apps_remaining",
        "eta_seconds", "progress")}
    shown_poison = None if poisoned is None else {"count": poisoned["count"], "last_at": poisoned["last_at"]}
    return {"latest_tick": shown_tick, "poisoned": shown_poison}

"""When a ticket event happened, so a late delivery cannot undo a newer one.

Deliveries arrive out of order (retries, queues in the sender), so "closed" may be followed by an
older "approved". Intake stamps every decision with the event's own time, from the most specific
source available:

* servicenow: the record's `sys_updated_on` (the change itself, unchanged when a send is retried);
* Standard Webhooks: the signed `webhook-timestamp` (unix seconds);
* Jira: the payload's signed `timestamp` (ms since the epoch);
* otherwise the time we received it.

All are whole seconds at best: two events of one ticket within the same second count as not newer.
"""

from __future__ import annotations

import json
from datetime import datetime

from shared.tickets.adapters import servicenow
from shared.tickets.signatures import Verified


def event_time(source: str, verified: Verified | None, body: bytes, received: datetime) -> datetime:
    """The event time of one verified delivery (see the module docstring for the order)."""
    if source == "servicenow":
        try:
            stamped = servicenow.updated_on(json.loads(body))
        except (ValueError, RecursionError):
            stamped = None
        if stamped is not None:
            return min(stamped, received)  # an event cannot have happened after we received it
    return min(verified.timestamp, received) if verified is not None else received

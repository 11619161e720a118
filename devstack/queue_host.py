"""A stand-in for the Functions host's queue listener, for tests and the scale benchmark (NOT deployed).

Functions Core Tools cannot run here, so this drives the real queue-trigger entry points over the real
queue (Azurite) the way the host's queue extension does (docs: functions-bindings-storage-queue,
host.json settings):
- fetch up to `batchSize` messages; fetch again once the messages in flight drop to `newBatchThreshold`;
  so at most batchSize + newBatchThreshold run at once in one instance;
- a fetched message stays invisible while its function runs (the host uses 10 minutes and renews);
- success deletes it; a failure makes it visible again after `visibilityTimeout`; a message whose
  dequeue count has reached `maxDequeueCount` when it fails is moved to `<queue>-poison`;
- messages are base64 text (the host's default `messageEncoding`).
One `QueueHost` stands for one instance; the benchmark runs several in separate processes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

log = logging.getLogger("devstack.queue_host")
Handler = Callable[[QueueMessage], Awaitable[None]]
RUNNING_INVISIBLE_S = 600  # the host keeps a running message invisible (and renews); we never run longer


@dataclass(frozen=True)
class QueueSettings:
    """host.json `extensions.queues` (the subset this stand-in honours), in seconds."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    visibility_timeout_s: float = 0.0
    max_dequeue_count: int = 5
    max_polling_interval_s: float = 2.0

    @classmethod
    def from_host_json(cls, host: dict[str, Any]) -> QueueSettings:
        """The settings as host.json states them (defaults for what it leaves out)."""
        queues = host.get("extensions", {}).get("queues", {})
        batch = int(queues.get("batchSize", 16))
        return cls(
            batch_size=batch,
            new_batch_threshold=int(queues.get("newBatchThreshold", batch // 2)),
            visibility_timeout_s=_seconds(queues.get("visibilityTimeout", "00:00:00")),
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            max_polling_interval_s=_seconds(queues.get("maxPollingInterval", "00:01:00")),
        )


@dataclass
class HostStats:
    """What one listener did."""

    succeeded: int = 0
    failed: int = 0
    poisoned: int = 0
    by_queue: dict[str, int] = field(default_factory=dict)


class QueueHost:
    """Listens on some queues of one storage account and runs their handlers like the host would."""

    def __init__(self, connection_string: str, settings: QueueSettings) -> None:
        self._connection = connection_string
        self._settings = settings
        self._handlers: dict[str, Handler] = {}
        self._clients: dict[str, QueueClient] = {}
        self.stats = HostStats()

    def listen(self, queue: str, handler: Handler) -> None:
        """Run `handler` for the messages of `queue`."""
        self._handlers[queue] = handler

    async def drain(self, *, idle_s: float = 1.0, stop: asyncio.Event | None = None) -> HostStats:
        """Process until every listened queue has been empty (nothing in flight) for `idle_s`, or `stop`."""
        try:
            loop = asyncio.get_running_loop()
            quiet_since, pause = loop.time(), 0.1
            while stop is None or not stop.is_set():
                worked = False
                for queue in self._handlers:
                    worked = await self._round(queue) or worked
                if worked:
                    quiet_since, pause = loop.time(), 0.1
                elif loop.time() - quiet_since >= idle_s:
                    break
                else:  # the host polls an empty queue with backoff up to maxPollingInterval
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, self._settings.max_polling_interval_s)
            return self.stats
        finally:
            await self.close()

    async def _round(self, queue: str) -> bool:
        """Fetch and run messages until none is visible and none is in flight; True when something ran."""
        client, s = await self._client(queue), self._settings
        running: set[asyncio.Task[None]] = set()
        worked = False
        while True:
            fetched = []
            if len(running) <= s.new_batch_threshold:
                fetched = [m async for m in client.receive_messages(
                    messages_per_page=s.batch_size, max_messages=s.batch_size,
                    visibility_timeout=RUNNING_INVISIBLE_S)]
                running |= {asyncio.create_task(self._run(queue, client, item)) for item in fetched}
                worked = worked or bool(fetched)
            if not running:
                return worked
            if not fetched or len(running) > s.new_batch_threshold:
                _, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)

    async def _run(self, queue: str, client: QueueClient, item: Any) -> None:
        text = str(item.content)
        message = QueueMessage(id=item.id, body=base64.b64decode(text), dequeue_count=item.dequeue_count,
                               pop_receipt=item.pop_receipt, insertion_time=item.inserted_on,
                               expiration_time=item.expires_on)
        try:
            await self._handlers[queue](message)
        except Exception as error:  # the host logs the failure and retries the message
            self.stats.failed += 1
            log.info("function for %s failed (attempt %s): %s", queue, item.dequeue_count, error)
            await self._after_failure(queue, client, item, text)
            return
        self.stats.succeeded += 1
        self.stats.by_queue[queue] = self.stats.by_queue.get(queue, 0) + 1
        with contextlib.suppress(ResourceNotFoundError):
            await client.delete_message(item.id, item.pop_receipt)

    async def _after_failure(self, queue: str, client: QueueClient, item: Any, text: str) -> None:
        if int(item.dequeue_count or 0) >= self._settings.max_dequeue_count:
            poison = await self._client(f"{queue}-poison")
            await poison.send_message(text)
            self.stats.poisoned += 1
            with contextlib.suppress(ResourceNotFoundError):
                await client.delete_message(item.id, item.pop_receipt)
            return
        with contextlib.suppress(ResourceNotFoundError):
            await client.update_message(item.id, item.pop_receipt,
                                        visibility_timeout=int(self._settings.visibility_timeout_s))

    async def _client(self, queue: str) -> QueueClient:
        client = self._clients.get(queue)
        if client is None:
            client = self._clients[queue] = QueueClient.from_connection_string(self._connection, queue)
            with contextlib.suppress(ResourceExistsError):
                await client.create_queue()
        return client

    async def close(self) -> None:
        """Close every queue client."""
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


def _seconds(text: str) -> float:
    """A host.json TimeSpan ("hh:mm:ss" or "d.hh:mm:ss") in seconds."""
    hours, minutes, seconds = str(text).split(":")
    days, _, hours = hours.rpartition(".")
    return float(days or 0) * 86400 + float(hours) * 3600 + float(minutes) * 60 + float(seconds)

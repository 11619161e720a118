"""Handing an app to the reconcile that runs in the background: Queue Storage messages, base64-encoded.

The queue trigger (`shared/functions/reconcile.py`) expects base64 (the Functions default
`messageEncoding`), while azure-storage-queue v12 sends raw text unless given an encode policy: so
the producer always uses `TextBase64EncodePolicy`. A message is only a hint: the app is already on
the engine's due list, so a lost message delays the change to the next timer tick, nothing more.
The queue trigger imports this module at cold start: the storage SDK and OpenTelemetry load on first
use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shared.queue_names import RECONCILE_QUEUE
from shared.telemetry.traceparent import TRACEPARENT_RE

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.storage.queue.aio import QueueClient

MAX_APP_ID = 128
SEND_CONCURRENCY = 16
TICK_RE = re.compile(r"[0-9]{13}-[0-9a-f]{6}")


@dataclass(frozen=True)
class ReconcileMessage:
    """Reconcile one app (`app`) or every app (`app` None; `full` for a full audit), for `cause`."""

    cause: str
    app: str | None = None
    full: bool = False
    request: str | None = None
    traceparent: str | None = None  # W3C trace context of the sender: the reconcile continues its trace
    tick: str | None = None  # the fanned-out tick this app belongs to (its progress counts)

    def to_json(self) -> str:
        """The message text."""
        body: dict[str, Any] = {"cause": self.cause, "full": self.full}
        if self.app is not None:
            body["app"] = self.app
        if self.request is not None:
            body["request"] = self.request
        if self.traceparent is not None:
            body["traceparent"] = self.traceparent
        if self.tick is not None:
            body["tick"] = self.tick
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ReconcileMessage:
        """Parse a message; ValueError when it is not one of ours."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("cause"), str):
            raise ValueError("not a reconcile message")
        app, request, parent = data.get("app"), data.get("request"), data.get("traceparent")
        if app is not None and (not isinstance(app, str) or not 0 < len(app) <= MAX_APP_ID):
            raise ValueError("app must be a short string")
        tick = data.get("tick")
        return cls(
            data["cause"][:200],
            app,
            bool(data.get("full", False)),
            request if isinstance(request, str) else None,
            parent if isinstance(parent, str) and TRACEPARENT_RE.match(parent) else None,
            tick if isinstance(tick, str) and TICK_RE.fullmatch(tick) else None,
        )


class ReconcileQueue:
    """Sends reconcile messages; the queue is created on first use."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client
        self._ready = False

    @classmethod
    def from_connection_string(cls, connection_string: str, name: str = RECONCILE_QUEUE) -> ReconcileQueue:
        """A producer over a connection string (Azurite, dev)."""
        from azure.storage.queue.aio import QueueClient

        return cls(QueueClient.from_connection_string(connection_string, name, **_policies()))

    @classmethod
    def from_service_uri(
        cls, uri: str, credential: AsyncTokenCredential, name: str = RECONCILE_QUEUE
    ) -> ReconcileQueue:
        """A producer over a queue service URI with a managed identity."""
        from azure.storage.queue.aio import QueueClient

        return cls(QueueClient(uri, name, credential=credential, **_policies()))

    async def send(self, message: ReconcileMessage) -> None:
        """Enqueue one message, carrying the current trace context unless it names one."""
        from azure.core.exceptions import ResourceExistsError

        from shared.telemetry.tracing import current_traceparent

        if not self._ready:
            with contextlib.suppress(ResourceExistsError):
                await self._client.create_queue()
            self._ready = True
        if message.traceparent is None:
            message = replace(message, traceparent=current_traceparent())
        await self._client.send_message(message.to_json())

    async def send_apps(self, cause: str, app_ids: Sequence[str], tick_id: str) -> list[str]:
        """One message per app, all tagged with `tick_id`, SEND_CONCURRENCY in flight; returns the apps
        whose message was sent. Every send runs to its end: a failure does not abandon the others."""
        from shared.telemetry.tracing import current_traceparent

        parent = current_traceparent()
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(app_id: str) -> None:
            async with gate:
                await self.send(ReconcileMessage(cause, app_id, traceparent=parent, tick=tick_id))

        outcomes = await asyncio.gather(*(one(app_id) for app_id in app_ids), return_exceptions=True)
        return [app for app, outcome in zip(app_ids, outcomes, strict=True) if outcome is None]

    async def receive_texts(self, limit: int = 32) -> list[str]:
        """Take up to `limit` messages off the queue (decoded text), deleting them (tests, tools)."""
        texts: list[str] = []
        async for item in self._client.receive_messages(messages_per_page=min(limit, 32)):
            texts.append(str(item.content))
            await self._client.delete_message(item)
            if len(texts) >= limit:
                break
        return texts

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._client.close()


def _policies() -> dict[str, Any]:
    from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy

    return {
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
    }

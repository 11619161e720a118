"""Coalesces the GETs PIM Warden issues at the same moment into JSON batches (`POST /$batch`).

Observing an app fans out into several independent reads (the group's members and owners; its
policies and four PIM lists; the app's role assignments), and several apps are observed at once. Sent
together as one `$batch` of up to 20, they cost one round trip instead of one each. Graph still counts
every inner request against its throttling budgets, so this saves latency, not quota.

msgraph-sdk's own batch support is not used: it sends `depends_on` instead of `dependsOn` and cannot
read the JSON bodies of inner responses (see tests/graphsim/test_sdk_fidelity_directory.py). The batch
is posted through the SDK's request adapter like any other request (auth, middleware), as exact JSON.
An inner answer that is throttled or failed transiently is sent again on its own through the call runner,
which honours Retry-After; any other inner error is raised as the GraphError it is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from shared.graph.calls import CallRunner, send_json, with_json_body
from shared.graph.counting import COUNTING
from shared.graph.errors import GraphError, ThrottledError, TransientGraphError, classify

MAX_BATCH = 20  # Graph's limit per JSON batch


@dataclass
class _Pending:
    info: RequestInformation
    relative_url: str
    headers: dict[str, str]
    done: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ReadBatcher:
    """Collects GETs until the current burst of work has been issued, then sends them together."""

    def __init__(self, adapter: Any, runner: CallRunner) -> None:
        self._adapter = adapter
        self._runner = runner
        # One queue per counting context (shared/graph/counting.py): reads of two overlapping runs are
        # not mixed into one batch, so each run still counts exactly the requests it caused.
        self._queues: dict[tuple[int, ...], list[_Pending]] = {}

    async def get(self, info: RequestInformation) -> dict[str, Any]:
        """Graph's JSON answer to the GET `info`, sent in a batch with whatever else is waiting."""
        relative = self._relative(info.url)
        if relative is None:
            return await self._alone(info)
        pending = _Pending(info, relative, _inner_headers(info))
        key = tuple(id(stats) for stats in COUNTING.get())
        queue = self._queues.setdefault(key, [])
        queue.append(pending)
        if len(queue) >= MAX_BATCH:
            self._flush(key)
        elif len(queue) == 1:
            # Two more turns of the loop let the other coroutines of this burst add their reads; the
            # callback runs in this context, so the batch is counted by the run that caused it.
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, self._flush, key)
        return await pending.done

    def _flush(self, key: tuple[int, ...]) -> None:
        queue = self._queues.pop(key, [])
        while queue:
            chunk, queue = queue[:MAX_BATCH], queue[MAX_BATCH:]
            task = asyncio.ensure_future(self._send(chunk))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _send(self, chunk: list[_Pending]) -> None:
        if len(chunk) == 1:
            await self._settle(chunk[0], self._alone(chunk[0].info))
            return
        try:
            answer = await self._runner.run(
                lambda: send_json(self._adapter, self._batch_request(chunk)), request=self._batch_request([])
            )
        except BaseException as error:  # the batch as a whole failed: every read in it fails the same way
            for pending in chunk:
                if not pending.done.done():
                    pending.done.set_exception(error)
            return
        by_id = {str(r.get("id")): r for r in answer.get("responses") or []}
        await asyncio.gather(*(self._answer(i, p, by_id.get(str(i))) for i, p in enumerate(chunk)))

    async def _answer(self, index: int, pending: _Pending, response: dict[str, Any] | None) -> None:
        status = int(response.get("status", 0)) if response else 0
        body = response.get("body") if response else None
        if 200 <= status < 300:
            pending.done.set_result(body if isinstance(body, dict) else {})
            return
        error = _inner_error(status, body, (response or {}).get("headers") or {})
        if isinstance(error, ThrottledError):
            self._runner.note_throttled(error.retry_after_s)  # everyone waits, as after any other 429
            await self._runner.share_pause(error.retry_after_s, write=False)  # other instances too
        if isinstance(error, TransientGraphError):  # throttled or failed: again on its own, with retries
            await self._settle(pending, self._alone(pending.info))
        else:
            pending.done.set_exception(error)

    async def _settle(self, pending: _Pending, work: Any) -> None:
        try:
            pending.done.set_result(await work)
        except BaseException as error:  # whatever ends the read ends its caller's wait too
            pending.done.set_exception(error)

    async def _alone(self, info: RequestInformation) -> dict[str, Any]:
        return await self._runner.run(lambda: send_json(self._adapter, info), request=info)

    def _batch_request(self, chunk: list[_Pending]) -> RequestInformation:
        info = RequestInformation(Method.POST, "{+baseurl}/$batch", {})
        requests = [
            {"id": str(i), "method": "GET", "url": p.relative_url}
            | ({"headers": p.headers} if p.headers else {})
            for i, p in enumerate(chunk)
        ]
        return with_json_body(info, {"requests": requests})

    def _relative(self, url: str) -> str | None:
        base = str(self._adapter.base_url).rstrip("/")
        if url.startswith(base + "/"):
            return url[len(base) :]
        return url if url.startswith("/") else None


def _inner_headers(info: RequestInformation) -> dict[str, str]:
    headers = info.headers.get_all() if hasattr(info.headers, "get_all") else {}
    return {
        k: ", ".join(sorted(v)) for k, v in headers.items() if k.lower() not in ("accept", "content-type")
    }


def _inner_error(status: int, body: Any, headers: dict[str, Any]) -> GraphError:
    found = body.get("error") if isinstance(body, dict) else None
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    detail = error.get("innerError")
    inner: dict[str, Any] = detail if isinstance(detail, dict) else {}
    retry = {str(k).lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        retry_after = float(retry) if retry is not None else 1.0
    except (TypeError, ValueError):
        retry_after = 1.0
    return classify(
        status,
        str(error.get("code") or "unknown"),
        str(error.get("message") or ""),
        request_id=str(inner.get("request-id") or ""),
        retry_after_s=retry_after,
    )

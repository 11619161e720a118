"""Sends one Graph request through msgraph-sdk with PIM Warden's retry rules, and counts it.

One layer of retries (the SDK's own retry middleware is off, see client.py):
- 429: every caller sharing this runner pauses until Graph's Retry-After has passed, so a throttled
  tenant is not hammered by the other workers (no second 429 in a row from us); with a `shared_pause`
  (shared/graph/pause.py) the other instances pause too, read before each request (cached ~1 s);
- once the write budget is reached (a write 429 here or in the shared record), writes are paced: one
  per slot, the instances together just under Graph's documented write rate (shared/graph/pacing.py);
- 5xx and network failures: bounded exponential backoff;
- anything else is raised at once as the GraphError subclass that says what it is.
Waits never exceed `max_wait_s`; past that the error is raised and the next tick tries again.

Every attempt is counted in `runner.stats` and in the per-run counters of shared/graph/counting.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.request_information import RequestInformation
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from shared.clock import Clock
from shared.graph.counting import COUNTING, CallStats
from shared.graph.errors import GraphError, ThrottledError, TransientGraphError, classify
from shared.graph.pacing import PacingConfig, WritePacer
from shared.graph.pause import PauseBucket, SharedPause, SharedPauseView, buckets_for
from shared.telemetry.graph_calls import GraphCall, graph_span, note_throttled
from shared.telemetry.tracing import path_template

T = TypeVar("T")
# What is left of another instance's pause below this is not waited for: our own pause, just slept,
# read back in wall-clock time (asyncio may wake a timer a millisecond early).
SHARED_SLACK_S = 0.05
# Every 4xx and 5xx answer parses as Graph's OData error body.
ERROR_MAP: dict[str, Any] = {"4XX": ODataError, "5XX": ODataError}


class CallRunner:
    """Runs Graph calls with retries and a shared throttle pause."""

    def __init__(
        self,
        *,
        max_attempts: int = 6,
        base_delay_s: float = 0.5,
        max_wait_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        shared_pause: SharedPause | None = None,
        shared_cache_s: float = 1.0,
        clock: Clock | None = None,
        pacing: PacingConfig | None = PacingConfig(),  # noqa: B008 (frozen, shared safely)
        instance: str | None = None,
    ) -> None:
        """`shared_pause`: the pause every instance sees (None: this process only); its reads are cached
        for `shared_cache_s`; `clock` is the wall clock its times are in (default: the system's).
        `pacing`: how writes are paced after a write 429 (None: never); `instance` names this instance's
        heartbeat (default: a random id)."""
        self.stats = CallStats()
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_wait_s = max_wait_s
        self._sleep = sleep
        self._monotonic = monotonic
        self._paused_until = 0.0
        self._shared = (
            SharedPauseView(shared_pause, cache_s=shared_cache_s, clock=clock, monotonic=monotonic)
            if shared_pause is not None
            else None
        )
        self.pacer = (
            WritePacer(pacing, self._shared, holder=instance, sleep=sleep, monotonic=monotonic)
            if pacing is not None
            else None
        )

    async def run(
        self,
        op: Callable[[], Awaitable[T]],
        *,
        write: bool = False,
        request: RequestInformation | None = None,
    ) -> T:
        """Await `op()` until it succeeds or fails for good (one span for all attempts of `request`)."""
        method, path = route(request)
        with graph_span(method, path, write=write) as call:
            return await self._attempts(op, write, call)

    async def _attempts(self, op: Callable[[], Awaitable[T]], write: bool, call: GraphCall) -> T:
        for attempt in range(1, self._max_attempts + 1):
            call.attempts = attempt
            await self._before_sending(write, call)
            counters = (self.stats, *COUNTING.get())
            for stats in counters:
                stats.requests += 1
                stats.writes += int(write)
            try:
                return await op()
            except (APIError, httpx.TransportError) as raw:
                error = translate(raw)
            call.status = error.status
            if isinstance(error, ThrottledError):
                call.throttled += 1
                for stats in counters:
                    stats.throttled += 1
                    stats.throttled_again += int(call.throttled > 1)
                self._pause(error.retry_after_s)
                await self.share_pause(error.retry_after_s, write=write)
                if write and self.pacer is not None:
                    held = error.retry_after_s if error.retry_after_s <= self._max_wait_s else 0.0
                    await self.pacer.throttled(held)
            if not isinstance(error, TransientGraphError) or attempt == self._max_attempts:
                raise error
            if not isinstance(error, ThrottledError):
                await self._sleep(min(self._base_delay_s * 2 ** (attempt - 1), self._max_wait_s))
        raise AssertionError("unreachable")  # pragma: no cover

    def note_throttled(self, retry_after_s: float) -> None:
        """A 429 seen outside `run` (an inner answer of a JSON batch): count it and pause everyone in this
        process (`share_pause` tells the other instances)."""
        note_throttled()
        for stats in (self.stats, *COUNTING.get()):
            stats.throttled += 1
        self._pause(retry_after_s)

    async def share_pause(self, retry_after_s: float, *, write: bool) -> None:
        """Record a 429's pause for every instance (the write or read bucket); never raises."""
        if self._shared is not None and retry_after_s <= self._max_wait_s:
            await self._shared.record(PauseBucket.WRITE if write else PauseBucket.READ, retry_after_s)

    def _pause(self, seconds: float) -> None:
        if seconds > self._max_wait_s:
            return  # too long to wait inside a run: the caller gets the 429 and the next tick retries
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    async def _before_sending(self, write: bool, call: GraphCall) -> None:
        """Wait out any pause, then (a paced write) for a slot; a pause begun meanwhile: again."""
        while True:
            await self._wait_for_pause(write, call)
            if not write or self.pacer is None or not await self.pacer.wait():
                return
            if await self._pause_left(write) <= SHARED_SLACK_S:
                return

    async def _pause_left(self, write: bool) -> float:
        left = self._paused_until - self._monotonic()
        if self._shared is not None:
            left = max(left, await self._shared.remaining(buckets_for(write=write)))
        return left

    async def _wait_for_pause(self, write: bool, call: GraphCall) -> None:
        """This process's pause first (no round trip), then what another instance recorded."""
        remaining = self._paused_until - self._monotonic()
        if remaining > 0:
            await self._sleep(remaining)
        if self._shared is None:
            return
        shared = await self._shared.remaining(buckets_for(write=write))
        if shared > SHARED_SLACK_S:
            call.shared_waits += 1
            await self._sleep(min(shared, self._max_wait_s))


def route(request: RequestInformation | None) -> tuple[str, str]:
    """(method, path template without ids) of a request, for telemetry."""
    if request is None:
        return "", ""
    method = request.http_method.value if request.http_method else ""
    raw = "request-raw-url" in (request.path_parameters or {})
    template = None if raw else request.url_template
    return method, path_template(template, "" if template else str(request.url))


def translate(raw: BaseException) -> GraphError:
    """An SDK or network exception as our GraphError (Graph's code and request id kept, no body)."""
    if isinstance(raw, httpx.TransportError):
        return TransientGraphError(0, "networkError", type(raw).__name__)
    assert isinstance(raw, APIError)
    status = int(raw.response_status_code or 0)
    main = raw.error if isinstance(raw, ODataError) else None
    code = (main.code if main else None) or "unknown"
    message = (main.message if main else None) or ""
    request_id = ""
    if main and main.inner_error and main.inner_error.request_id:
        request_id = str(main.inner_error.request_id)
    return classify(status, code, message, request_id=request_id, retry_after_s=_retry_after(raw))


def _retry_after(raw: APIError) -> float:
    headers = {k.lower(): v for k, v in (raw.response_headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if not value:
        return 1.0
    try:
        return max(float(value), 0.0)  # Graph sends seconds, sometimes fractional ("2.128")
    except ValueError:
        try:
            return max(parsedate_to_datetime(str(value)).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return 1.0


async def send_json(adapter: Any, info: RequestInformation) -> dict[str, Any]:
    """Send a request built by an SDK request builder; Graph's JSON answer as a dict ({} for 204)."""
    raw = await adapter.send_primitive_async(info, "bytes", ERROR_MAP)
    if not raw:
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {"value": value}


def with_json_body(info: RequestInformation, body: Any) -> RequestInformation:
    """Replace a request's content with exact JSON (no SDK model round trip: durations stay ISO-8601)."""
    info.set_stream_content(json.dumps(body).encode("utf-8"), "application/json")
    info.headers.try_add("Content-Type", "application/json")
    return info

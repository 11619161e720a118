"""A fanned-out tick through the real entry points: the timer enqueues on Azurite's queue, the real
`reconcile` queue trigger (driven by devstack.queue_host the way the Functions host drives it) does the
work, and a message that keeps failing ends in `reconcile_poison`, which records it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.functions.timer import TimerRequest

from devstack.queue_host import QueueHost, QueueSettings
from devstack.stack import admin_token_request
from graphsim import seeding, tenants
from graphsim.app import build_app
from graphsim.state import Tenant
from graphsim.testing import SimServer
from shared import runtime
from shared.api import wiring
from shared.api.bearer import TokenValidator
from shared.api.config import ApiConfig
from shared.api.reconcile_queue import ReconcileMessage, ReconcileQueue
from shared.engine.fanout import EnqueueError, dispatch
from shared.engine.schedule import DueSchedule
from shared.engine.services import build_services
from shared.engine.worker import RetryLater, poison_summary, reconcile_one
from shared.functions import enforce, reconcile
from shared.storage import AppStatus, AuditEvent, Registration, RetryPolicy, StateStore
from shared.storage.ticks import Tick, TickProgress
from tests.integration.pause_env import drain_write_budget, graph_requests

pytestmark = pytest.mark.azurite
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEMO_APPS = 4  # the demo tenant's high-value apps that PIM Warden manages
FAST = QueueSettings(batch_size=4, new_batch_threshold=2, visibility_timeout_s=0, max_dequeue_count=5)


class Stack:
    """graphsim, Azurite tables under a fresh prefix, and a fresh reconcile queue (+ its poison queue)."""

    def __init__(self, server: SimServer, azurite: str, queue_name: str) -> None:
        self.server, self.azurite, self.queue_name = server, azurite, queue_name

    @property
    def api(self) -> wiring.ApiServices:
        return wiring.current()

    def host(self, settings: QueueSettings = FAST) -> QueueHost:
        """One instance's queue listener running the real queue triggers."""
        host = QueueHost(self.azurite, settings)
        host.listen(self.queue_name, _user_function(reconcile.reconcile))
        host.listen(f"{self.queue_name}-poison", _user_function(reconcile.reconcile_poison))
        return host

    async def tick(self, *, full: bool = False) -> None:
        timer = _user_function(enforce.full_audit_timer if full else enforce.enforce_timer)
        await timer(TimerRequest(past_due=False))

    async def latest_tick(self) -> Tick:
        tick = await self.api.engine.store.ticks.latest()
        assert tick is not None
        return tick


def _user_function(function: object) -> Any:
    """The coroutine function the host calls (the decorated object wraps it once indexed)."""
    return getattr(function, "user_function", function)


@pytest.fixture
async def stack(monkeypatch: pytest.MonkeyPatch, azurite: str) -> AsyncIterator[Stack]:
    tenant = Tenant()
    seeding.seed(tenant, tenants.demo())
    with SimServer(build_app(tenant)) as server:
        for name, value in SAMPLE.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PimWardenStorage", azurite)
        monkeypatch.setenv("PIMWARDEN_GRAPH_BASE_URL", server.base_url)
        monkeypatch.setenv("PIMWARDEN_TABLE_PREFIX", f"f{uuid.uuid4().hex[:12]}")
        runtime.reset()
        name = f"q{uuid.uuid4().hex[:12]}"
        config = ApiConfig.from_env(os.environ)
        queue = ReconcileQueue.from_connection_string(azurite, name)
        tokens = TokenValidator(config.tokens, None)
        wiring.install(wiring.ApiServices(build_services(), config, queue, tokens))
        try:
            yield Stack(server, azurite, name)
        finally:
            wiring.uninstall()
            await queue.close()
            await runtime.aclose()


def _managed_groups(server: SimServer) -> set[str]:
    return {str(g["uniqueName"]) for g in server.app.tenant.groups.values()
            if str(g.get("uniqueName", "")).startswith("pimwarden-")}


async def test_the_timer_enqueues_and_the_queue_trigger_reconciles(stack: Stack) -> None:
    await stack.tick()
    assert _managed_groups(stack.server) == set()  # the timer itself reconciles nothing
    tick = await stack.latest_tick()
    assert tick.enqueued >= DEMO_APPS and tick.counts.finished == 0

    stats = await stack.host().drain()

    assert stats.failed == 0 and stats.poisoned == 0
    assert len(_managed_groups(stack.server)) >= DEMO_APPS
    tick = await stack.latest_tick()
    assert tick.counts.finished == tick.enqueued and tick.remaining == 0 and tick.eta_seconds() == 0.0
    assert tick.counts.changed == DEMO_APPS and tick.counts.writes > 0 and tick.counts.failed == 0
    managed = await stack.api.engine.store.apps.list(status=AppStatus.MANAGED)
    assert len(managed) == DEMO_APPS and all(r.last_error is None for r in managed)


async def test_an_app_already_queued_is_not_queued_again_within_its_lease_time(stack: Stack) -> None:
    await stack.tick(full=True)
    first = await stack.latest_tick()
    await stack.tick(full=True)  # a second full tick before any worker ran

    assert await stack.latest_tick() == first  # nothing new enqueued, so no new tick row
    texts = await stack.api.queue.receive_texts(limit=100)
    apps = [json.loads(t)["app"] for t in texts]
    assert len(apps) == len(set(apps)) == first.enqueued


async def test_a_second_tick_after_onboarding_enqueues_nothing(stack: Stack) -> None:
    await stack.tick()
    await stack.host().drain()
    first = await stack.latest_tick()

    await stack.tick()

    assert await stack.latest_tick() == first
    assert await stack.api.queue.receive_texts(limit=10) == []


async def test_a_change_right_after_onboarding_is_queued_at_once(stack: Stack) -> None:
    """Markers of finished apps are gone: a change seen minutes after onboarding is not held back."""
    await stack.tick()
    await stack.host().drain()
    record = (await stack.api.engine.store.apps.list(status=AppStatus.MANAGED))[0]
    assert await stack.api.engine.store.ticks.queued(stack.api.engine.clock.now()) == set()
    async with httpx.AsyncClient(base_url=stack.server.root) as http:  # drift a person made
        token = (await http.post("/_sim/tokens", json=admin_token_request())).json()["access_token"]
        answer = await http.patch(f"/v1.0/servicePrincipals/{record.app_id}",
                                  json={"appRoleAssignmentRequired": False},
                                  headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 204, answer.text

    await stack.tick()

    tick = await stack.latest_tick()
    assert tick.enqueued == 1
    await stack.host().drain()
    assert stack.server.app.tenant.service_principals[record.app_id]["appRoleAssignmentRequired"] is True


async def test_a_transient_outcome_is_retried_by_the_queue_until_it_succeeds(stack: Stack) -> None:
    await stack.tick()
    app_id = (await stack.api.queue.receive_texts(limit=1))[0]
    target = json.loads(app_id)["app"]
    # Requeue the one message we took, and hold its app's lease (another worker on it) for a while.
    await stack.api.queue.send(reconcile_message(target))
    engine = stack.api.engine
    lease = await engine.store.leases.acquire(
        target, "another-instance", timedelta(minutes=5), engine.clock.now()
    )
    assert lease is not None
    host = stack.host()
    retried = 0

    original = reconcile.reconcile

    async def release_after_two(msg: object) -> None:
        nonlocal retried
        if getattr(msg, "dequeue_count", 1) >= 3:
            await engine.store.leases.release(lease)
        try:
            await _user_function(original)(msg)
        except Exception:
            retried += 1
            raise

    host.listen(stack.queue_name, release_after_two)
    stats = await host.drain()

    assert retried == 2 and stats.poisoned == 0
    record = await engine.store.apps.find(target)
    assert record is not None and record.last_error is None


async def test_a_message_that_keeps_failing_is_poisoned_and_recorded(stack: Stack) -> None:
    await stack.tick()
    await stack.host().drain()
    engine = stack.api.engine
    record = (await engine.store.apps.list(status=AppStatus.MANAGED))[0]
    lease = await engine.store.leases.acquire(
        record.app_id, "a-stuck-instance", timedelta(hours=1), engine.clock.now()
    )
    assert lease is not None
    await stack.api.queue.send(reconcile_message(record.app_id, tick=(await stack.latest_tick()).tick_id))

    stats = await stack.host().drain()

    assert stats.poisoned == 1 and stats.failed == FAST.max_dequeue_count
    stored = await engine.store.apps.get(record.app_id)
    assert stored.last_error is not None and "poison queue" in stored.last_error
    events = await _audit(stack, record.app_id)
    assert [e.action for e in events if e.action == "ReconcileAbandoned"] == ["ReconcileAbandoned"]
    summary = await poison_summary(engine)
    assert summary is not None and summary["count"] == 1 and summary["recent_apps"] == [record.app_id]
    due = await _due(stack)
    assert due[record.app_id] > engine.clock.now() + timedelta(minutes=50)  # looked at again later
    assert (await stack.latest_tick()).counts.poisoned == 1


def reconcile_message(app_id: str, tick: str | None = None) -> ReconcileMessage:
    return ReconcileMessage("test", app_id, tick=tick)


async def _audit(stack: Stack, app_id: str) -> list[AuditEvent]:
    now = stack.api.engine.clock.now()
    return await stack.api.engine.store.audit.query(app_id, now - timedelta(days=1), now + timedelta(days=1))


async def _due(stack: Stack) -> dict[str, datetime]:
    return dict((await DueSchedule(stack.api.engine.store.cursors).read()).entries)


async def test_a_lost_progress_count_does_not_fail_or_repeat_the_reconcile(stack: Stack) -> None:
    """The tick's counts only inform people: storage refusing them must not turn a recorded reconcile
    into a failed message (which the queue would run again)."""
    await stack.tick()
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = StateStore.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;", "down", retry=RetryPolicy(attempts=1))
    stack.api.progress = TickProgress(down.ticks, "instance-without-storage")
    try:
        stats = await stack.host().drain()
    finally:
        await down.close()

    assert stats.failed == 0 and stats.succeeded == (await stack.latest_tick()).enqueued
    assert len(_managed_groups(stack.server)) >= DEMO_APPS


async def test_two_worker_processes_share_one_throttle_pause(stack: Stack, tmp_path: Path) -> None:
    """Two instances (worker processes running the real queue trigger over the real queue) onboard
    the demo tenant into a drained write budget: the pause one meets is recorded in Table Storage,
    both pace their writes from it (each counted as an active instance), and every app is onboarded
    with nothing failed or poisoned. (The budget here is 1 write a second so the test is short; the
    pacer assumes Graph's documented 20, so retries may meet a 429 again: tests/integration/
    test_graph_pacing.py checks that none does at the documented rate.)"""
    await drain_write_budget(stack.server.app, 150)  # 1 write per second, the bucket empty
    mark = len(stack.server.app.log)
    workers = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.scale_worker", "--ready", str(tmp_path / f"ready-{n}"),
        "--out", str(tmp_path / f"out-{n}.json"), "--queue", stack.queue_name, "--batch-size", "1",
        "--new-batch-threshold", "1", cwd=ROOT, env=dict(os.environ),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    ) for n in range(2)]
    try:
        for _ in range(600):  # both listening before anything is queued
            if all((tmp_path / f"ready-{n}").exists() for n in range(2)):
                break
            await asyncio.sleep(0.1)
        await stack.tick()
        engine = stack.api.engine
        for _ in range(900):  # until every enqueued app is finished (at most 90 s)
            tick = await stack.latest_tick()
            if tick.remaining == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.wait(), 60)

    reports = [json.loads((tmp_path / f"out-{n}.json").read_text()) for n in range(2)]
    assert tick.remaining == 0 and tick.counts.failed == tick.counts.poisoned == 0
    assert all(r["succeeded"] > 0 for r in reports)  # both instances worked
    assert any(e["status"] == 429 for e in graph_requests(stack.server.app, mark))
    shared = await engine.store.throttle.state()
    assert "write" in shared.pauses and len(shared.instances) == 2  # both paced, each counted once


class _LosingQueue:
    """The real queue, except that sending for `lost` apps fails (storage refused those messages)."""

    def __init__(self, queue: ReconcileQueue, lost: set[str]) -> None:
        self.queue, self.lost = queue, lost

    async def send_apps(self, cause: str, app_ids: Sequence[str], tick_id: str) -> list[str]:
        return await self.queue.send_apps(cause, [a for a in app_ids if a not in self.lost], tick_id)


async def test_apps_whose_message_was_not_sent_are_not_marked_and_the_retry_sends_them(
    stack: Stack,
) -> None:
    engine, queue = stack.api.engine, stack.api.queue
    await dispatch(engine, queue, "probe", full=True)  # which apps a full tick enqueues
    apps = sorted(json.loads(t)["app"] for t in await queue.receive_texts(limit=100))
    for app in apps:
        await engine.store.ticks.unmark_queued(app)
    lost = apps[0]

    with pytest.raises(EnqueueError):
        await dispatch(engine, _LosingQueue(queue, {lost}), "test", full=True)

    assert await engine.store.ticks.queued(engine.clock.now()) == set(apps) - {lost}
    retry = await dispatch(engine, queue, "test", full=True)  # the host's retry of the re-sync message
    assert retry.enqueued == 1 and retry.already_queued == len(apps) - 1
    assert json.loads((await queue.receive_texts(limit=100))[-1])["app"] == lost


async def test_a_worker_starting_on_an_app_frees_it_to_be_queued_again(stack: Stack) -> None:
    """A change landing while an app is being reconciled must not wait for the full audit."""
    await stack.tick(full=True)
    engine = stack.api.engine
    [text, *_] = await stack.api.queue.receive_texts(limit=100)
    app = json.loads(text)["app"]
    now = engine.clock.now()
    lease = await engine.store.leases.acquire(app, "another-instance", timedelta(minutes=5), now)
    assert lease is not None and app in await engine.store.ticks.queued(engine.clock.now())

    with pytest.raises(RetryLater):  # the worker started on it (and met the lease)
        await reconcile_one(engine, app, "test", tick_id="8203581445562-eb086d")

    assert app not in await engine.store.ticks.queued(engine.clock.now())


async def test_a_permanent_failure_is_recorded_and_not_retried(stack: Stack) -> None:
    """An app registered under a profile that was removed since: reconcile cannot choose a policy, so
    it records the error on the app and the message completes (retrying cannot help)."""
    await stack.tick()
    await stack.host().drain()
    engine = stack.api.engine
    record = (await engine.store.apps.list(status=AppStatus.MANAGED))[0]
    await engine.store.registrations.put(
        Registration(record.app_id, "retired-profile", "operator:test", engine.clock.now())
    )
    tick = (await stack.latest_tick()).tick_id
    await stack.api.queue.send(reconcile_message(record.app_id, tick=tick))

    stats = await stack.host().drain()

    assert (stats.succeeded, stats.failed, stats.poisoned) == (1, 0, 0)  # delivered once, not retried
    stored = await engine.store.apps.get(record.app_id)
    assert stored.status is AppStatus.ERROR and "retired-profile" in (stored.last_error or "")
    assert (await stack.latest_tick()).counts.failed == 1

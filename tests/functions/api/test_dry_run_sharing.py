"""A Reader's dry runs share one recent plan: concurrent requests wait for one planning run, later ones
within the reuse window get it again; Graph sees one run's reads, not one per request."""

from __future__ import annotations

import asyncio

import pytest

from shared.api import plan_sharing
from shared.api.plan_sharing import SharedRuns

from .conftest import FINREPORT, OPERATOR, Env, call_operator, token

READER = token(roles=("PimWarden.Reader",))


async def dry_run(app: str | None = None) -> tuple[int, dict[str, object]]:
    if app is None:
        return await call_operator(OPERATOR.resync_all, "POST", "resync", bearer=READER,
                                   params={"dryRun": "true"})
    return await call_operator(OPERATOR.resync_app, "POST", f"resync/{app}", bearer=READER,
                               params={"dryRun": "true"}, appId=app)


async def test_concurrent_and_repeated_dry_runs_make_one_plan(env: Env) -> None:
    mark = len(env.sim.log)
    first = await dry_run()
    one_run = len(env.sim.log) - mark
    assert first[0] == 200 and first[1]["shared"] is False and one_run > 0
    env.api.plans = SharedRuns()  # forget it: now twenty at once
    mark = len(env.sim.log)
    answers = await asyncio.gather(*(dry_run() for _ in range(20)))
    assert 0 < len(env.sim.log) - mark < 2 * one_run  # one run's reads, give or take a delta page
    assert [a[0] for a in answers] == [200] * 20
    assert sorted(a[1]["shared"] for a in answers) == [False] + [True] * 19
    assert len({a[1]["planned_at"] for a in answers}) == 1
    mark = len(env.sim.log)
    again = await dry_run()
    assert again[1]["shared"] is True and again[1]["planned_at"] == answers[0][1]["planned_at"]
    assert {a["app"] for a in again[1]["apps"]} == {a["app"] for a in first[1]["apps"]}
    assert len(env.sim.log) == mark


async def test_one_app_plans_are_kept_apart_and_expire(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.api.plans = SharedRuns(reuse_seconds=0.0)
    mark = len(env.sim.log)
    await dry_run(FINREPORT)
    each = len(env.sim.log) - mark
    status, body = await dry_run(FINREPORT)  # the kept plan expired at once: a new one
    assert status == 200 and body["shared"] is False
    assert len(env.sim.log) - mark > each
    assert plan_sharing.PLAN_REUSE_SECONDS >= 10

"""`make demo`'s steps end to end: graphsim as a real server process (demo tenant), Azurite, the real
CLI functions and timer entry point; and the demo's promise to stop what it started and fail loudly."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from devstack import process
from devstack.demo import fold_rule_lines, run_demo, start_and_run
from devstack.demo_client import DemoFailure
from devstack.graphsim_server import GraphsimServer
from devstack.stack import local_environment
from shared import runtime

pytestmark = pytest.mark.azurite


@pytest.fixture
async def stack(monkeypatch: pytest.MonkeyPatch, azurite: str) -> AsyncIterator[GraphsimServer]:
    with GraphsimServer.start(tenant="demo") as graph:
        env = local_environment(graph.base_url, azurite, PIMWARDEN_TABLE_PREFIX=f"d{uuid.uuid4().hex[:12]}")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.reset()
        yield graph
        runtime.reset()


async def test_demo_walks_the_whole_story(stack: GraphsimServer, capsys: pytest.CaptureFixture[str]) -> None:
    await run_demo(stack.root)
    out = capsys.readouterr().out
    assert "Plan: 67 change(s) in 4 app(s)" in out
    assert "apps_found=1 enqueued=1" in out  # only the drifted app was looked at
    assert "reconcile queue: 1 message(s) run by the queue trigger" in out
    assert '["ExpirationRule"]' in out and "201 Provisioned" in out
    verdicts = [line.split()[2] for line in out.splitlines() if line.startswith("Private Access:")]
    assert verdicts == ["DENIED", "DENIED", "ALLOWED", "DENIED"]
    assert "EligibilityGranted" in out and "DriftDetected" in out
    async with httpx.AsyncClient() as http:
        state = (await http.get(f"{stack.root}/_sim/state")).json()
    assert sum(1 for sp in state["servicePrincipals"] if sp.get("appRoleAssignmentRequired")) == 4


def test_a_failing_step_exits_1_and_stops_the_stack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))  # start_and_run configures the environment
    already_running = set(process._LIVE)  # the test session's own Azurite
    seen: list[str] = []

    async def failing(root: str) -> None:
        async with httpx.AsyncClient() as http:
            seen.append((await http.get(f"{root}/_sim/clock")).json()["now"])  # the stack was up
        raise DemoFailure("something that did not happen")

    assert start_and_run(failing) == 1
    assert seen and already_running == process._LIVE  # every process it started was stopped
    assert "DEMO FAILED: expected something that did not happen" in capsys.readouterr().err


def test_rule_corrections_of_one_policy_fold_into_one_line() -> None:
    text = (
        "app x:\n"
        "  + CorrectPolicyRule: member policy not known yet: set A (this onboards the group)\n"
        "  + CorrectPolicyRule: member policy not known yet: set B (this onboards the group)\n"
        "  + CorrectPolicyRule: owner policy not known yet: set A (this onboards the group)\n"
        "  + AssignGroupToApp: the group must grant app role User\n"
    )
    assert fold_rule_lines(text).splitlines() == [
        "app x:",
        "  + CorrectPolicyRule x2: member policy not known yet: set A, B (this onboards the group)",
        "  + CorrectPolicyRule x1: owner policy not known yet: set A (this onboards the group)",
        "  + AssignGroupToApp: the group must grant app role User",
    ]

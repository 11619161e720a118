"""Converges under faults with nothing lost: the short, seeded chaos run (`make chaos` runs a longer one).

graphsim runs as a real server with lost responses, 5xx answers, replication delay and throttling;
the operator CLI runs as real processes, SIGKILLed at seeded random moments; grants and a revoke come
in between; then faults go off. See devstack/chaos.py for what the end state must be."""

from __future__ import annotations

import pytest

from devstack.chaos import ChaosPlan, Stack, run_chaos
from devstack.graphsim_server import GraphsimServer

pytestmark = pytest.mark.azurite


def test_converges_with_nothing_lost_after_faults_kills_grants_and_a_revoke(azurite: str) -> None:
    with GraphsimServer.start(tenant="demo") as graph:
        plan = ChaosPlan(seed=11, rounds=5, error_rate=0.1, lost_response_rate=0.25, read_units_per_10s=30,
                         writes_per_150s=200)
        figures = run_chaos(Stack(graph, azurite), plan)
    report = figures.report()
    assert figures.problems() == [], report
    assert figures.kills >= 1 and report["faults_total"] >= 3, report  # the day was a bad one
    assert figures.revoked_was_eligible, report  # the revoke took away something PIM had granted

"""Graph's write budget (3,000 writes per 150 s for an app in a tenant) bounds a cold onboarding, so the
number of writes per app is a property worth pinning: one group upsert, one PATCH per policy (member and
owner, every rule that differs in one request), the app role assignment, and assignment-required."""

from __future__ import annotations

from collections import Counter

import pytest

from graphsim.app import GraphSim
from shared.engine.run import enforce
from shared.engine.services import Services

from .simenv import app_by_name, writes_since

pytestmark = pytest.mark.azurite


async def test_cold_onboarding_costs_at_most_five_writes_per_app(sim: GraphSim, services: Services) -> None:
    mark = len(sim.log)
    run = await enforce(services, "timer")
    assert run.failed == 0 and run.seen == 4
    writes = writes_since(sim, mark)
    policy_patches = [w for w in writes if w["path"].startswith("/policies/roleManagementPolicies/")]
    per_policy = Counter(w["path"].split("/")[3] for w in policy_patches)
    assert len(per_policy) == 8 and set(per_policy.values()) == {1}  # member + owner policy of 4 groups
    # Payroll RDP Jump Host already requires assignment: 5 + 5 + 5 + 4.
    assert len(writes) == 19, [f"{w['method']} {w['path']}" for w in writes]
    assert app_by_name(sim, "Payroll RDP Jump Host")["appRoleAssignmentRequired"] is True

"""The narrowed change signals against graphsim and Azurite: a change to a managed group, or an audit
entry of a relevant kind, is still found; an unrelated one costs nothing extra.

Group delta: filtered on the managed ids (a few chunks of 50) or tenant-wide (many), one delta link
per chunk in the cursor, moved only when the caller moves it (after the apps found are durable).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.engine.signals import (
    GROUP_DELTA_CURSOR,
    Signals,
    audit_signals,
    group_delta_signals,
    move_cursors,
)
from tests.tokens import admin_headers

from .simenv import user_by_upn

pytestmark = pytest.mark.azurite
MODES = {"filtered": 2, "tenant-wide": 0}  # max_chunks: 0 forces one tenant-wide delta


@pytest.fixture
async def admin(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw Graph calls as a portal administrator (someone else than PIM Warden)."""
    transport = asgi_transport(sim)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_BASE, headers=admin_headers()) as c:
        yield c


async def new_groups(admin: httpx.AsyncClient, *names: str) -> list[str]:
    ids = []
    for name in names:
        body = {"displayName": name, "mailNickname": name, "mailEnabled": False, "securityEnabled": True}
        created = await admin.post("/groups", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


async def add_member(admin: httpx.AsyncClient, sim: GraphSim, group_id: str) -> None:
    user = user_by_upn(sim, "grace@")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"}
    r = await admin.post(f"/groups/{group_id}/members/$ref", json=ref)
    assert r.status_code == 204, r.text


def delta_requests(sim: GraphSim, mark: int) -> int:
    return sum(1 for r in list(sim.log)[mark:] if r.get("route") == "groups.delta")


async def tick(services: Services, owners: dict[str, str], max_chunks: int, *, move: bool = True) -> Signals:
    found = await group_delta_signals(services.graph, services.store.cursors, owners, max_chunks=max_chunks)
    if move:
        await move_cursors(services.store.cursors, found.cursors, services.clock.now())
    return found


@pytest.mark.parametrize("mode", MODES)
async def test_a_managed_group_change_is_found_and_an_unrelated_one_costs_nothing(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient, mode: str
) -> None:
    managed, other = await new_groups(admin, "managed", "other")
    owners = {managed: "app-1"}
    assert (await tick(services, owners, MODES[mode])).apps == set()  # a baseline is no change
    mark = len(sim.log)
    await add_member(admin, sim, other)
    assert (await tick(services, owners, MODES[mode])).apps == set()
    assert delta_requests(sim, mark) == 1
    await add_member(admin, sim, managed)
    assert (await tick(services, owners, MODES[mode])).apps == {"app-1"}


async def test_each_chunk_of_fifty_has_its_own_link(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient
) -> None:
    ids = await new_groups(admin, *(f"g{i}" for i in range(51)))
    owners = {g: f"app-{i}" for i, g in enumerate(ids)}
    await tick(services, owners, 2)
    cursor = await services.store.cursors.get(GROUP_DELTA_CURSOR)
    assert cursor.value.count("$deltatoken=") == 2
    mark = len(sim.log)
    await add_member(admin, sim, ids[50])
    assert (await tick(services, owners, 2)).apps == {"app-50"}
    assert delta_requests(sim, mark) == 2
    mark = len(sim.log)
    assert (await tick(services, owners, 0)).apps == set()  # switched to tenant-wide: old links drained
    assert delta_requests(sim, mark) == 3


async def test_changes_since_the_old_links_count_when_the_managed_set_changes(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient
) -> None:
    first, second = await new_groups(admin, "first", "second")
    await tick(services, {first: "app-1"}, 2)
    await add_member(admin, sim, first)
    grown = {first: "app-1", second: "app-2"}
    assert (await tick(services, grown, 2)).apps == {"app-1"}  # the old chunk's link, read one last time
    await add_member(admin, sim, second)
    assert (await tick(services, grown, 2)).apps == {"app-2"}  # the new chunk's baseline is in place


async def test_the_cursor_moves_only_when_the_caller_moves_it(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient
) -> None:
    [managed] = await new_groups(admin, "managed")
    owners = {managed: "app-1"}
    await tick(services, owners, 2)
    await add_member(admin, sim, managed)
    assert (await tick(services, owners, 2, move=False)).apps == {"app-1"}  # a crash before durable
    assert (await tick(services, owners, 2)).apps == {"app-1"}  # found again
    assert (await tick(services, owners, 2)).apps == set()


async def test_an_expired_chunk_link_looks_at_the_apps_of_that_chunk(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient
) -> None:
    [managed] = await new_groups(admin, "managed")
    owners = {managed: "app-1"}
    await tick(services, owners, 2)
    sim.tenant.advance(timedelta(days=8))  # directory delta tokens last 7 days
    assert (await tick(services, owners, 2)).apps == {"app-1"}
    assert (await tick(services, owners, 2)).apps == set()


async def test_audit_reads_the_relevant_entries_only(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient
) -> None:
    since = sim.tenant.now
    managed, other = await new_groups(admin, "managed", "other")  # "Add group": not read
    owner = user_by_upn(sim, "grace@")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{owner['id']}"}
    assert (await admin.post(f"/groups/{managed}/owners/$ref", json=ref)).status_code == 204
    sim.tenant.advance(timedelta(minutes=1))
    entries = await services.graph.audit_signals(since, sim.tenant.now)
    assert [e.activity for e in entries] == ["Add owner to group"]
    mark = len(sim.log)
    found = await audit_signals(
        services.graph, services.store.cursors, {managed: "app-1", other: "app-2"}, {"app-1", "app-2"},
        sim.tenant.now, timedelta(minutes=15),
    )
    assert found.apps == {"app-1"}
    assert sum(1 for r in list(sim.log)[mark:] if r.get("route") == "auditLogs.directoryAudits.list") == 1


PIM_LISTS = ("eligibilitySchedules", "eligibilityScheduleInstances", "assignmentSchedules",
             "assignmentScheduleInstances")


def pim_list_reads(sim: GraphSim, mark: int) -> int:
    return sum(
        1 for r in list(sim.log)[mark:]
        if r["method"] == "GET" and str(r["path"]).rsplit("/", 1)[-1] in PIM_LISTS
    )


async def test_a_group_created_in_the_run_is_onboarded_before_any_pim_list_is_read(
    sim: GraphSim, services: Services, admin: httpx.AsyncClient
) -> None:
    """The docs advise the four PIM lists only for groups onboarded to PIM (PIM for Groups API
    overview, "Onboarding groups to PIM for Groups"): a cold onboarding observes groups before they
    exist, so it reads none; a later look at an onboarded group reads them."""
    mark = len(sim.log)
    cold = await enforce(services, "timer")
    assert cold.failed == 0 and cold.count_with_changes() >= 3
    assert pim_list_reads(sim, mark) == 0
    group = sorted(g for g in (await services.store.apps.list())[0].role_groups.values())[0]
    await add_member(admin, sim, group)
    sim.tenant.advance(timedelta(minutes=15))
    mark = len(sim.log)
    tick = await enforce(services, "timer")
    looked_at = {r.service_principal_id for r in tick.results}
    records = [r for r in await services.store.apps.list() if r.app_id in looked_at]
    groups = {g for r in records for g in r.role_groups.values()}
    assert looked_at and pim_list_reads(sim, mark) == 4 * len(groups)

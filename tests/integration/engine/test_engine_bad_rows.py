"""One bad state row never stops the other apps: an unreadable app row is reported (app, property,
why) and that app alone is left alone; a deleted row is rebuilt by the next normal tick."""

from __future__ import annotations

import contextlib
import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from graphsim.app import GraphSim
from shared.api import operator
from shared.cli import main as cli
from shared.engine.run import enforce
from shared.engine.services import Services

from .simenv import app_by_name

pytestmark = pytest.mark.azurite
CORRUPT, DELETED, DRIFTED = "FinReport SQL", "Payroll RDP Jump Host", "Trading Desk Portal"


async def _cli(services: Services, *argv: str) -> tuple[int, str, str]:
    args = cli.parser().parse_args(["--as", "test", *argv])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = await cli.COMMANDS[args.command](services, args)
    return code, out.getvalue(), err.getvalue()


async def _break_rows(services: Services, azurite: str, corrupt: str, deleted: str) -> None:
    """What a bad day does to the apps table: one row's JSON cut short, another row gone."""
    async with TableClient.from_connection_string(azurite, services.store.prefix + "apps") as table:
        await table.upsert_entity({"PartitionKey": corrupt, "RowKey": "app", "RoleGroups": '{"00000000-'},
                                  mode=UpdateMode.MERGE)
        await table.delete_entity(deleted, "app")


async def _drift(sim: GraphSim, sp_id: str) -> None:
    """Someone switches 'assignment required' off, through Graph (so delta shows it)."""
    import httpx

    from graphsim.testing import IN_PROCESS_BASE, asgi_transport
    from tests.tokens import admin_headers

    async with httpx.AsyncClient(transport=asgi_transport(sim), base_url=IN_PROCESS_BASE) as http:
        answer = await http.patch(f"/servicePrincipals/{sp_id}", json={"appRoleAssignmentRequired": False},
                                  headers=admin_headers())
        assert answer.status_code == 204, answer.text


async def test_a_corrupt_and_a_deleted_app_row_do_not_stop_the_other_apps(
    sim: GraphSim, services: Services, azurite: str
) -> None:
    assert (await enforce(services, "timer")).failed == 0
    corrupt, deleted, drifted = (app_by_name(sim, n)["id"] for n in (CORRUPT, DELETED, DRIFTED))
    rebuilt_groups = dict((await services.store.apps.get(deleted)).role_groups)
    await _break_rows(services, azurite, corrupt, deleted)
    await _drift(sim, drifted)

    code, out, err = await _cli(services, "apply")  # a normal tick, not --full
    assert code == cli.EXIT_ERROR  # the unreadable row needs an operator, and says so
    assert f"! {corrupt}: state_unreadable: stored app record unreadable: property RoleGroups" in err
    assert "state_unreadable=1" in out
    assert app_by_name(sim, DRIFTED)["appRoleAssignmentRequired"] is True  # the others were repaired
    assert dict((await services.store.apps.get(deleted)).role_groups) == rebuilt_groups  # rebuilt

    code, out, _ = await _cli(services, "status", "--json")
    assert code == cli.EXIT_OK
    rows = {r["service_principal_id"]: r for r in json.loads(out)}
    assert rows[corrupt]["status"] == "state_unreadable"
    assert rows[corrupt]["unreadable_property"] == "RoleGroups"
    assert rows[deleted]["status"] == "managed" and rows[drifted]["status"] == "managed"

    code, out, _ = await _cli(services, "plan", "--detailed-exitcode")
    assert code == cli.EXIT_ERROR and f"! {corrupt}: state_unreadable" in out
    assert "Plan: 0 change(s)" in out  # every other app is converged

    api: Any = SimpleNamespace(engine=services)
    listed = {a["app"]: a for a in (await operator.list_apps(api)).body["apps"]}
    assert listed[corrupt]["state"] == "state_unreadable"
    assert listed[corrupt]["unreadable"]["property"] == "RoleGroups"
    detail = await operator.app_detail(api, corrupt)
    assert detail.status == 200 and detail.body["state"] == "state_unreadable"


async def test_plan_reports_a_missing_app_row_and_a_normal_apply_rebuilds_it(
    sim: GraphSim, services: Services, azurite: str
) -> None:
    assert (await enforce(services, "timer")).failed == 0
    deleted = app_by_name(sim, DELETED)["id"]
    async with TableClient.from_connection_string(azurite, services.store.prefix + "apps") as table:
        await table.delete_entity(deleted, "app")
    code, out, _ = await _cli(services, "plan", "--detailed-exitcode")
    assert code == cli.EXIT_CHANGES and "no app record is stored: apply writes it" in out
    code, _, _ = await _cli(services, "apply")
    assert code == cli.EXIT_OK
    code, _, _ = await _cli(services, "plan", "--detailed-exitcode")
    assert code == cli.EXIT_OK

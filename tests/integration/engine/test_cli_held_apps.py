"""`apply` when another worker holds an app's lease: said in the output and the exit code, and waited
for with `--wait`."""

from __future__ import annotations

import contextlib
import io
from datetime import timedelta

import pytest

from graphsim.app import GraphSim
from shared.cli import main as cli
from shared.engine.services import Services

from .simenv import app_by_name, managed_groups

pytestmark = pytest.mark.azurite


async def _apply(services: Services, *argv: str) -> tuple[int, str, str]:
    args = cli.parser().parse_args(["--as", "test", "apply", *argv])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = await cli.COMMANDS["apply"](services, args)
    return code, out.getvalue(), err.getvalue()


async def _hold(services: Services, sp_id: str, seconds: int) -> None:
    lease = await services.store.leases.acquire(sp_id, "other-worker", timedelta(seconds=seconds),
                                                services.clock.now())
    assert lease is not None


async def test_apply_names_held_apps_and_detailed_exitcode_says_incomplete(
    sim: GraphSim, services: Services
) -> None:
    held = app_by_name(sim, "FinReport SQL")["id"]
    await _hold(services, held, 600)
    code, out, err = await _apply(services, "--detailed-exitcode")
    assert code == cli.EXIT_INCOMPLETE
    assert f"~ {held}: skipped: another worker holds its lease" in err
    assert "skipped=1" in out
    code, _, _ = await _apply(services)
    assert code == cli.EXIT_OK  # without --detailed-exitcode a skip is not an error


async def test_apply_wait_reconciles_held_apps_once_their_lease_runs_out(
    sim: GraphSim, services: Services
) -> None:
    async def sim_sleep(seconds: float) -> None:  # time passes on graphsim's clock, which leases follow
        sim.tenant.advance(timedelta(seconds=seconds))

    services.sleep = sim_sleep
    held = app_by_name(sim, "FinReport SQL")["id"]
    await _hold(services, held, 10)
    code, out, err = await _apply(services, "--detailed-exitcode", "--wait", "60")
    assert code == cli.EXIT_OK, err
    assert "skipped=0" in out and "skipped:" not in err
    record = await services.store.apps.get(held)
    assert record.role_groups and set(record.role_groups.values()) <= {g["id"] for g in managed_groups(sim)}

"""`make demo`: PIM Warden doing its main job on the local default stack, start to finish.

Starts Azurite and graphsim (demo tenant) on free ports, points the sample settings at them, then runs
the real code paths: the operator CLI's plan / apply / status, the enforce timer and the reconcile
queue trigger for a drift repair, and the seed's client-side story through Graph (Ada is denied, made
eligible from a ticket, activates with a reason, is refused beyond 30 minutes, is allowed, and is
denied again once her activation has ended). Ends with the audit trail. Stops what it started, pass
or fail; exits 1 when any step does not behave as expected.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from azure.functions.timer import TimerRequest

from devstack.azurite import Azurite
from devstack.demo_client import DemoClient, DemoFailure, expect, graph_error
from devstack.demo_preflight import preflight
from devstack.demo_trail import print_trail
from devstack.graphsim_server import GraphsimServer
from devstack.queue_host import QueueHost, QueueSettings
from devstack.stack import local_environment
from shared import runtime
from shared.cli import main as cli
from shared.engine.services import Services, build_services
from shared.queue_names import RECONCILE_QUEUE
from shared.settings import STORAGE_CONNECTION
from shared.storage import AppStatus

ADA = "ada@contoso.onmicrosoft.com"
APP = "FinReport SQL"
TICKET = "ServiceNow:CHG0012345"


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


async def run_cli(services: Services, *argv: str) -> int:
    """One operator CLI command through its real function, as `python -m shared ...` runs it; its
    output is shown with runs of rule corrections of one policy folded into one line."""
    print(f"$ python -m shared {' '.join(shlex.quote(a) for a in argv)}", flush=True)
    args = cli.parser().parse_args(["--as", "demo", *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = await cli.COMMANDS[args.command](services, args)
    print(fold_rule_lines(out.getvalue()), end="", flush=True)
    return code


_RULE_LINE = re.compile(r"^(  \+ CorrectPolicyRule: )(.*?)set (\S+)(.*)$")


def fold_rule_lines(text: str) -> str:
    """Consecutive `CorrectPolicyRule: <policy> ... set <rule>` plan lines as one line naming every rule."""
    out: list[str] = []
    run: tuple[str, str, str] | None = None
    rules: list[str] = []
    for text_line in [*text.splitlines(), ""]:
        match = _RULE_LINE.match(text_line)
        key = (match.group(1), match.group(2), match.group(4)) if match else None
        if run is not None and key != run:
            out.append(f"{run[0][:-2]} x{len(rules)}: {run[1]}set {', '.join(rules)}{run[2]}")
            run, rules = None, []
        if match and key is not None:
            run = key
            rules.append(match.group(3))
        else:
            out.append(text_line)
    return "\n".join(out[:-1]) + "\n" if out[:-1] else ""


async def run_timer() -> str:
    """The enforce timer through its real entry point (indexed like the worker), then the reconcile
    queue trigger for what it enqueued, driven the way the Functions host drives it; the timer's
    one-line log and what the queue ran."""
    import function_app

    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    lines: list[str] = []
    handler = _Collect(lines)
    logger = logging.getLogger("pimwarden.enforce")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        await functions["enforce_timer"].get_user_function()(TimerRequest(past_due=False))
    finally:
        logger.removeHandler(handler)
    expect(lines, "the enforce timer logged its summary")
    host = QueueHost(os.environ[STORAGE_CONNECTION], QueueSettings(visibility_timeout_s=1))
    host.listen(RECONCILE_QUEUE, functions["reconcile"].get_user_function())
    stats = await host.drain(idle_s=1.0)
    expect(stats.failed == 0, "the reconcile queue ran every message")
    return f"{lines[-1]}\nreconcile queue: {stats.succeeded} message(s) run by the queue trigger"


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def onboard(services: Services) -> None:
    """Plan, apply, status: every high-value app of the demo tenant gets its PIM-guarded group."""
    heading("1. What would change (dry run: nothing is written)")
    expect(await run_cli(services, "plan", "--detailed-exitcode") == cli.EXIT_CHANGES, "plan finds changes")
    heading("2. Apply")
    expect(await run_cli(services, "apply") == cli.EXIT_OK, "apply succeeds")
    heading("3. State")
    expect(await run_cli(services, "status") == cli.EXIT_OK, "status succeeds")
    managed = [a for a in await services.store.apps.list() if a.status is AppStatus.MANAGED]
    expect(len(managed) == 4, f"4 high-value apps managed (found {len(managed)})")
    expect(await run_cli(services, "plan", "--detailed-exitcode") == cli.EXIT_OK, "a second plan is empty")


async def drift_repair(client: DemoClient) -> None:
    """Someone switches 'assignment required' off in the portal; the next timer tick sets it back."""
    heading(f"4. Drift: 'assignment required' switched off on {APP} in the portal")
    sp = await client.app(APP)
    await client.ok("PATCH", f"/servicePrincipals/{sp['id']}", {"appRoleAssignmentRequired": False})
    print("PATCH /servicePrincipals/{id} {appRoleAssignmentRequired: false} (raw Graph, as a portal would)")
    print(f"enforce timer: {await run_timer()}")
    after = await client.app(APP)
    expect(after["appRoleAssignmentRequired"] is True, "the tick set appRoleAssignmentRequired back to true")
    print("appRoleAssignmentRequired is true again (DriftDetected + AssignmentRequired in the audit trail)")


async def access_story(services: Services, client: DemoClient) -> None:
    """The seed's client-side experience, steps 1 and 2, for Ada on FinReport SQL."""
    ada, sp = await client.user(ADA), await client.app(APP)
    group_id = (await services.store.apps.get(sp["id"])).role_groups[_default_role(sp)]
    heading(f"5. {ADA} tries {APP}")
    await _access(client, ada["id"], sp["id"], allowed=False)
    heading("6. A ticket makes her eligible (never active)")
    expect(await run_cli(services, "grant", "--app", sp["id"], "--user", ADA, "--for", "P7D",
                         "--justification", "Quarter-end reporting", "--ticket", TICKET) == cli.EXIT_OK,
           "grant recorded")
    expect(await run_cli(services, "apply", "--app", sp["id"]) == cli.EXIT_OK, "apply --app succeeds")
    [schedule] = await client.eligibility(group_id, ada["id"])
    ends = schedule["scheduleInfo"]["expiration"].get("endDateTime")
    print(f"PIM: eligible member of the app's group until {ends}")
    await _access(client, ada["id"], sp["id"], allowed=False)
    heading("7. She activates in PIM with a reason")
    await client.sync_clock()  # the grant started on the engine's (wall) clock: bring graphsim level
    await _activate(client, group_id, ada["id"])
    await _access(client, ada["id"], sp["id"], allowed=True)
    heading("8. Time passes the end of her 30 minutes")
    print(f"graphsim clock -> {await client.advance_clock('PT31M')}")
    await _access(client, ada["id"], sp["id"], allowed=False)


async def _activate(client: DemoClient, group_id: str, user_id: str) -> None:
    refused = await client.activate(group_id, user_id, "PT2H", "Month-end close")
    print(f"selfActivate for PT2H -> {graph_error(refused)}")
    expect(refused.status_code == 400 and "ExpirationRule" in refused.text, "PIM refuses 2 hours")
    granted = await client.activate(group_id, user_id, "PT30M", "Month-end close")
    expect(granted.status_code == 201, f"PIM accepts 30 minutes: {graph_error(granted)}")
    body = granted.json()
    print(f"selfActivate for PT30M -> {granted.status_code} {body['status']} "
          f"(justification {body['justification']!r})")


async def _access(client: DemoClient, user_id: str, sp_id: str, *, allowed: bool) -> None:
    verdict = await client.access(user_id, sp_id)
    print(f"Private Access: {'ALLOWED' if verdict['allowed'] else 'DENIED'} ({verdict['reason']})")
    expect(verdict["allowed"] is allowed, f"access {'allowed' if allowed else 'denied'} at this point")


def _default_role(sp: dict[str, Any]) -> str:
    roles = [r["id"] for r in sp.get("appRoles", [])]
    return roles[0] if roles else "00000000-0000-0000-0000-000000000000"


async def run_demo(graph_root: str) -> None:
    """The whole demo against a running stack configured in os.environ; raises DemoFailure."""
    client = await DemoClient.connect(graph_root)
    services = build_services()
    try:
        await client.sync_clock()  # graphsim's clock only moves when told: start it at the wall clock
        heading("0. Permissions: an admin grants PIM Warden's identity the manifest; the preflight")
        await preflight(graph_root)
        await onboard(services)
        await drift_repair(client)
        await access_story(services, client)
        heading("9. Audit trail")
        await print_trail(services.store, [a.app_id for a in await services.store.apps.list()])
    finally:
        await client.aclose()
        await runtime.aclose()


def start_and_run(step: Callable[[str], Coroutine[Any, Any, None]] = run_demo) -> int:
    """Start Azurite and graphsim, configure the environment, run `step`; 0 when it succeeds."""
    print("Starting Azurite and graphsim (demo tenant) on free loopback ports ...", flush=True)
    with Azurite.start() as azurite, GraphsimServer.start(tenant="demo") as graph:
        print(f"Azurite tables on 127.0.0.1:{azurite.table_port}; graphsim at {graph.base_url}")
        os.environ.update(local_environment(graph.base_url, azurite.connection_string))
        runtime.reset()
        try:
            asyncio.run(step(graph.root))
        except DemoFailure as failure:
            print(f"\nDEMO FAILED: expected {failure}", file=sys.stderr)
            return 1
    print("\nDemo complete: Azurite and graphsim stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m devstack.demo`."""
    description = (__doc__ or "").split("\n")[0]
    argparse.ArgumentParser(prog="python -m devstack.demo", description=description).parse_args(argv)
    return start_and_run()


if __name__ == "__main__":
    sys.exit(main())

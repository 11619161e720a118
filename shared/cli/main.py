"""`python -m shared`: the operator CLI over the same engine and settings as the functions.

Exit codes: 0 success (plan: no changes); 1 error (bad settings or arguments, storage or Graph
unusable, an app failed during apply); 2 `plan --detailed-exitcode` found changes; 3
`apply --detailed-exitcode` left apps to another worker (their leases were held) or to the next tick
(run budget spent).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from shared import runtime
from shared.api.answers import Refusal
from shared.api.guardrails import eligibility_window, user_kind
from shared.api.queue_status import queue_status
from shared.cli import doctor as doctor_cli
from shared.cli import permissions as permissions_cli
from shared.cli import progress_display, render
from shared.cli import report as compliance_cli
from shared.cli.env import apply_environment, cli_environment
from shared.domain.durations import parse_duration
from shared.domain.ids import ServicePrincipalId
from shared.domain.manageable import manageability
from shared.domain.model import TicketInfo
from shared.engine.grants import GrantRequest, close_grants, record_grant
from shared.engine.progress import ProgressSink
from shared.engine.reconcile import Outcome
from shared.engine.run import enforce
from shared.engine.schedule import DueSchedule
from shared.engine.services import Services, build_services
from shared.engine.unmanageable import refusal_event
from shared.engine.waiting import DEFAULT_WAIT_S, wait_for_held
from shared.settings import SettingsError
from shared.storage import DEFAULT_APP_ROLE_ID, AppStatus, Registration

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INCOMPLETE = 0, 1, 2, 3


class UsageError(Exception):
    """A command-line mistake the operator can fix; printed without a traceback."""


def parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per operation)."""
    p = argparse.ArgumentParser(prog="python -m shared", description="PIM Warden operator CLI")
    p.add_argument("--as", dest="operator", default=None, help="operator name for the audit trail")
    sub = p.add_subparsers(dest="command", required=True)
    compliance_cli.register(sub)
    doctor_cli.register(sub)
    permissions_cli.register(sub)
    plan = sub.add_parser("plan", help="dry run: what would change and why (writes nothing)")
    plan.add_argument("--app", help="only this service principal (object id)")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    plan.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    apply = sub.add_parser("apply", help="converge all apps (or one) now")
    apply.add_argument("--app")
    apply.add_argument("--full", action="store_true", help="full audit of every managed app")
    apply.add_argument("--detailed-exitcode", action="store_true",
                       help="exit 3 when apps were left to another worker or to the next tick")
    apply.add_argument("--wait", type=float, nargs="?", const=DEFAULT_WAIT_S, default=None, metavar="SECONDS",
                       help="wait (default %(const)s s) for apps another worker holds, then reconcile them")
    apply.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    status = sub.add_parser("status", help="managed apps and their state")
    status.add_argument("--json", action="store_true")
    grant = sub.add_parser("grant", help="record an eligibility grant")
    grant.add_argument("--app", required=True)
    grant.add_argument("--user", required=True, help="user object id or UPN")
    until = grant.add_mutually_exclusive_group(required=True)
    until.add_argument("--until", help="end, ISO 8601 with time zone")
    until.add_argument("--for", dest="duration", help="duration, ISO 8601 (e.g. PT8H, P7D)")
    grant.add_argument("--justification", required=True)
    grant.add_argument("--ticket", help="SYSTEM:NUMBER, e.g. ServiceNow:CHG0012345")
    grant.add_argument("--role", default=DEFAULT_APP_ROLE_ID, help="app role id (default: Default Access)")
    revoke = sub.add_parser("revoke", help="close a user's open grants on an app")
    revoke.add_argument("--app", required=True)
    revoke.add_argument("--user", required=True)
    revoke.add_argument("--grant", help="only this grant id")
    register = sub.add_parser("register", help="register an app as high-value")
    register.add_argument("--app", required=True)
    register.add_argument("--profile", default=None)
    register.add_argument("--reason", default="")
    deregister = sub.add_parser("deregister", help="remove an explicit registration")
    deregister.add_argument("--app", required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = parser().parse_args(argv)
    apply_environment(cli_environment())
    try:
        return asyncio.run(_run(args))
    except (SettingsError, UsageError, ValueError, permissions_cli.PermissionsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # storage or Graph unusable: one clear line, not a traceback
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


async def _run(args: argparse.Namespace) -> int:
    if args.command in STANDALONE:  # these check the deployment itself: they must run with bad settings
        try:
            return await STANDALONE[args.command](args)
        finally:
            await runtime.aclose()
    services = build_services()
    try:
        return await COMMANDS[args.command](services, args)
    finally:
        await runtime.aclose()


def _cause(args: argparse.Namespace) -> str:
    return f"operator:{args.operator or getpass.getuser()}"


@contextmanager
def _progress(args: argparse.Namespace, *, quiet: bool) -> Iterator[ProgressSink | None]:
    """Progress on stderr while a run reconciles apps (not for one app, nor when asked to be quiet);
    cleared or completed before the caller prints its summary."""
    if quiet or args.app:
        yield None
        return
    display = progress_display.for_stream(sys.stderr)
    try:
        with progress_display.logs_above(display):
            yield display
    finally:
        display.finish()


async def cmd_plan(services: Services, args: argparse.Namespace) -> int:
    with _progress(args, quiet=args.quiet or args.json) as progress:
        summary = await enforce(services, _cause(args), only_app=args.app, dry_run=True, progress=progress)
    print(render.plan_json(summary) if args.json else render.plan_text(summary))
    if summary.failed:
        return EXIT_ERROR
    return EXIT_CHANGES if args.detailed_exitcode and summary.count_with_changes() else EXIT_OK


async def cmd_apply(services: Services, args: argparse.Namespace) -> int:
    with _progress(args, quiet=args.quiet) as progress:
        summary = await enforce(services, _cause(args), only_app=args.app, full=args.full, progress=progress)
    if args.wait is not None:
        summary = await wait_for_held(services, summary, _cause(args), args.wait)
    for result in summary.results:
        if result.error and result.outcome is not Outcome.SKIPPED:
            print(f"! {result.service_principal_id}: {result.outcome}: {result.error}", file=sys.stderr)
    for line in render.left_over(summary):
        print(line, file=sys.stderr)
    print(summary.line())
    if summary.failed:
        return EXIT_ERROR
    incomplete = summary.count(Outcome.SKIPPED) or summary.not_reached
    return EXIT_INCOMPLETE if args.detailed_exitcode and incomplete else EXIT_OK


async def cmd_status(services: Services, args: argparse.Namespace) -> int:
    scan = await services.store.apps.scan()
    rows = render.status_rows(scan.apps, scan.unreadable)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    queue = await queue_status(services)
    print("\n".join([*render.queue_lines(queue), render.status_text(rows)]))
    return EXIT_OK


async def cmd_grant(services: Services, args: argparse.Namespace) -> int:
    now = services.clock.now()
    user = await services.graph.get_user(args.user)
    if user is None:
        raise UsageError(f"no user {args.user!r} in the directory")
    protected = {str(p).lower() for p in services.config.protected_principals}
    if str(user.id).lower() in protected or args.user.lower() in protected:
        raise UsageError("protected_principal: protected principals are never made eligible")
    if not user.account_enabled or user_kind(user) != "member":
        raise UsageError(f"principal_not_allowed: {args.user} is disabled or not a member of this tenant")
    ends = await _grant_end(services, args, now)
    grant = await record_grant(services.store, GrantRequest(
        app_id=args.app, principal_id=str(user.id), starts=now, ends=ends,
        justification=args.justification, ticket=_ticket(args.ticket), role=args.role,
        source=_cause(args), principal_upn=user.user_principal_name,
    ), now)
    print(f"grant {grant.grant_id} recorded: {user.user_principal_name} eligible for {args.app} until "
          f"{ends.isoformat()} (applied on the next tick, or run `apply --app {args.app}`)")
    return EXIT_OK


async def cmd_revoke(services: Services, args: argparse.Namespace) -> int:
    user = await services.graph.get_user(args.user)
    principal = str(user.id) if user else args.user
    closed = await close_grants(services.store, args.app, principal, f"revoked by {_cause(args)}",
                                services.clock.now(), grant_id=args.grant)
    if not closed:
        raise UsageError(f"no open grant for {args.user} on {args.app}")
    print(f"closed {len(closed)} grant(s): {', '.join(g.grant_id for g in closed)}")
    return EXIT_OK


async def cmd_register(services: Services, args: argparse.Namespace) -> int:
    profile = services.profiles.get(args.profile)  # ProfileError (a ValueError) for unknown names
    now = services.clock.now()
    sp = await services.graph.get_service_principal(ServicePrincipalId(args.app.lower()))
    if sp is None:
        raise UsageError(f"no service principal with object id {args.app!r}")
    refused = manageability(sp, services.config.own_service_principals)
    if refused is not None:
        await services.store.audit.append(
            refusal_event(str(sp.id).lower(), refused, _cause(args), now, "RegistrationRefused"))
        raise UsageError(f"{refused.code}: {refused.message}")
    app = str(sp.id).lower()
    existing = await services.store.registrations.find(app)
    await services.store.registrations.put(Registration(
        app, profile.name, _cause(args), now, args.reason, existing.etag if existing else None))
    await DueSchedule(services.store.cursors).update(now, set_due={app: now})
    print(f"registered {app} with profile {profile.name!r}")
    return EXIT_OK


async def cmd_deregister(services: Services, args: argparse.Namespace) -> int:
    now = services.clock.now()
    await services.store.registrations.delete(args.app)
    await DueSchedule(services.store.cursors).update(now, set_due={args.app: now})
    print(f"deregistered {args.app} (its protection stays until an operator removes it)")
    return EXIT_OK


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise UsageError("--until needs a time zone, e.g. 2026-01-31T18:00:00Z")
        return value.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise UsageError(f"--until {text!r} is not a usable date-time: {error}") from None


async def _grant_end(services: Services, args: argparse.Namespace, now: datetime) -> datetime:
    """The grant's end, bounded like a ticket's: the app must be managed and its profile caps the length."""
    record = await services.store.apps.find(args.app.lower())
    registration = await services.store.registrations.find(args.app.lower())
    if registration is None and (record is None or record.status is not AppStatus.MANAGED):
        raise UsageError(f"app_not_managed: PIM Warden does not manage {args.app}")
    name = registration.profile if registration else record.profile if record else None
    profile = services.profiles.get(name)
    try:
        duration = parse_duration(args.duration) if args.duration else _instant(args.until) - now
        if duration <= timedelta(0):
            raise UsageError("the grant must end in the future")
        _, ends = eligibility_window(profile, duration, None, now)
    except Refusal as refusal:
        raise UsageError(f"{refusal.error_code}: {refusal.message}") from None
    except OverflowError:
        raise UsageError("the grant's end is out of range") from None
    assert ends is not None  # a duration was given
    return ends


def _ticket(text: str | None) -> TicketInfo | None:
    if not text:
        return None
    system, sep, number = text.partition(":")
    if not sep or not system or not number:
        raise UsageError("--ticket must be SYSTEM:NUMBER")
    return TicketInfo(system, number)


COMMANDS = {
    "plan": cmd_plan, "apply": cmd_apply, "status": cmd_status, "grant": cmd_grant,
    "revoke": cmd_revoke, "register": cmd_register, "deregister": cmd_deregister,
    **compliance_cli.COMMANDS,
}
STANDALONE = {**doctor_cli.COMMANDS, **permissions_cli.COMMANDS}

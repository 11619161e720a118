"""Compliance commands of the operator CLI: report, evidence, findings, collect.

`report` streams a whole range to stdout or a file, one storage page in memory at a time (the HTTP
endpoint pages instead). Wired into `python -m shared` by `register(subparsers)` and `COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from shared.compliance import service
from shared.compliance.service import ComplianceServices, ReportFormat
from shared.compliance.window import BadWindow, check_window
from shared.engine.services import Services

Handler = Callable[[Services, argparse.Namespace], Awaitable[int]]


def register(subparsers: Any) -> None:
    """Add the compliance sub-commands to the CLI's subparsers."""
    report = subparsers.add_parser("report", help="compliance report of one app (JSON Lines or CSV)")
    report.add_argument("--app", required=True, help="managed app id")
    report.add_argument("--from", dest="start", required=True, help="start, ISO 8601 with time zone")
    report.add_argument("--to", dest="end", default=None, help="end (exclusive), default now")
    report.add_argument("--format", choices=[f.value for f in ReportFormat], default="json")
    report.add_argument("--output", "-o", default="-", help="file to write (default stdout)")
    evidence = subparsers.add_parser("evidence", help="evidence view of one app (JSON)")
    evidence.add_argument("--app", required=True)
    findings = subparsers.add_parser("findings", help="findings of one app")
    findings.add_argument("--app", required=True)
    findings.add_argument("--json", action="store_true")
    subparsers.add_parser("collect", help="ingest new compliance events now")


def compliance(services: Services) -> ComplianceServices:
    """The compliance container over the CLI's engine services."""
    return service.build_compliance(services, os.environ)


async def cmd_report(services: Services, args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Stream the report to `--output` (or stdout)."""
    now = services.clock.now()
    start, end = _instant(args.start), _instant(args.end) if args.end else now
    try:
        check_window(start, end, now, None)  # sane dates; the CLI streams a range of any length
    except BadWindow as error:
        raise ValueError(f"--{error.parameter} {error}") from None
    lines = service.report_lines(compliance(services), args.app, start, end, ReportFormat(args.format))
    if out is not None or args.output == "-":
        await _write(lines, out or sys.stdout)
        return 0
    with open(args.output, "w", encoding="utf-8", newline="") as target:  # noqa: ASYNC230 - local file
        await _write(lines, target)
    return 0


async def cmd_evidence(services: Services, args: argparse.Namespace) -> int:
    """Print the evidence view as JSON."""
    evidence = await service.app_evidence(compliance(services), args.app)
    print(json.dumps(evidence.to_dict(), indent=2, default=str))
    return 0


async def cmd_findings(services: Services, args: argparse.Namespace) -> int:
    """Print the findings (one per line, or JSON)."""
    found = await service.app_findings(compliance(services), args.app)
    if args.json:
        print(json.dumps([{**vars(f), "evidence": list(f.evidence)} for f in found], indent=2, default=str))
    else:
        for f in found:
            print(f"{f.severity:6} {f.kind:32} {f.subject}: {f.detail}")
        print(f"{len(found)} finding(s)")
    return 0


async def cmd_collect(services: Services, args: argparse.Namespace) -> int:
    """Run the collector once; exit 1 when an app failed."""
    summary = await service.run_collect(compliance(services))
    for failed in summary.failed:
        print(f"! {failed.app_id}: {failed.error}", file=sys.stderr)
    print(summary.line())
    return 1 if summary.failed else 0


async def _write(lines: Any, target: TextIO) -> None:
    async for line in lines:
        target.write(line)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone, e.g. 2026-01-01T00:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None


COMMANDS: dict[str, Handler] = {
    "report": cmd_report, "evidence": cmd_evidence, "findings": cmd_findings, "collect": cmd_collect,
}

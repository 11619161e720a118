"""The preflight's report as a table (people) or JSON (machines)."""

from __future__ import annotations

import json

from shared.doctor.results import Report, Status

_MARK = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.SKIP: "skip"}


def table(report: Report) -> str:
    """One line per check; a failure's or warning's fix on the line below it; a verdict at the end."""
    width = max((len(c.name) for c in report.checks), default=10)
    lines = []
    for check in report.checks:
        lines.append(f"{_MARK[check.status]:4}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status in (Status.FAIL, Status.WARN):
            lines.append(f"{'':4}  {'':<{width}}  fix: {check.fix}")
    failed = len(report.blocking)
    lines.append("ready to enforce" if report.ok else f"NOT ready: {failed} check(s) failed")
    return "\n".join(lines)


def as_json(report: Report) -> str:
    """The report as indented JSON."""
    return json.dumps(report.as_dict(), indent=2)

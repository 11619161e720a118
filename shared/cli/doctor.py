"""`python -m shared doctor`: the preflight a new admin runs after deploying (exit 1 when anything
blocks enforcement). It reads the same settings as the functions and uses the same credential."""

from __future__ import annotations

import argparse
import os
from typing import Any

from shared.doctor import render
from shared.doctor.run import run_doctor


def register(sub: Any) -> None:
    """Add the `doctor` sub-command."""
    doctor = sub.add_parser(
        "doctor", help="preflight: settings, storage, queue, Graph token, permissions, probes"
    )
    doctor.add_argument("--json", action="store_true", help="machine-readable output")


async def cmd_doctor(args: argparse.Namespace) -> int:
    report = await run_doctor(os.environ)
    print(render.as_json(report) if args.json else render.table(report))
    return 0 if report.ok else 1


COMMANDS = {"doctor": cmd_doctor}

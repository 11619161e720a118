"""`apply` shows its progress on stderr, never on stdout: plain lines in a log, one line redrawn in place
on a terminal (cleared before the summary); `--quiet` shows none."""

from __future__ import annotations

import contextlib
import io
import re
import uuid

import pytest

from graphsim.app import GraphSim
from shared.cli import main as cli
from shared.cli.progress_display import CLEAR_LINE
from shared.engine.services import Services
from shared.storage import StateStore

from .simenv import app_by_name, demo_sim, make_services, writes_since

pytestmark = pytest.mark.azurite

PROGRESS = re.compile(r"(\d+) of (\d+) apps · (\d+) writes · (\d+) throttled")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def _apply(services: Services, err: io.StringIO, *argv: str) -> tuple[int, str]:
    args = cli.parser().parse_args(["--as", "test", "apply", *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = await cli.COMMANDS["apply"](services, args)
    return code, out.getvalue()


def _summary_value(out: str, name: str) -> int:
    match = re.search(rf"\b{name}=(\d+)", out)
    assert match, out
    return int(match.group(1))


async def test_a_log_gets_progress_lines_with_the_counts_and_stdout_only_the_summary(
    sim: GraphSim, services: Services
) -> None:
    err = io.StringIO()
    code, out = await _apply(services, err, "--full")
    assert code == cli.EXIT_OK, err.getvalue()
    lines = [line for line in err.getvalue().splitlines() if line.startswith("progress: ")]
    counts = [PROGRESS.match(line.removeprefix("progress: ")) for line in lines]
    assert all(counts), lines
    numbers = [tuple(int(n) for n in m.groups()) for m in counts if m]
    first, last = numbers[0], numbers[-1]
    apps = _summary_value(out, "apps_seen") + _summary_value(out, "refused")  # every app the run looked at
    assert apps > 0 and first == (0, apps, 0, 0)
    assert last[:2] == (apps, apps) and last[3] == 0
    assert last[2] == _summary_value(out, "graph_writes") == len(writes_since(sim, 0)) > 0
    assert out.splitlines() == [out.strip()] and out.startswith("enforce cause=operator:test full=true")


async def test_progress_leaves_stdout_as_it_was(services: Services, azurite: str) -> None:
    quiet_sim = demo_sim()
    quiet_store = StateStore.from_connection_string(azurite, f"t{uuid.uuid4().hex[:16]}")
    try:
        quiet_err = io.StringIO()
        _, quiet_out = await _apply(make_services(quiet_sim, quiet_store, azurite), quiet_err, "--full", "-q")
    finally:
        await quiet_store.delete_tables()
        await quiet_store.close()
    err = io.StringIO()
    _, out = await _apply(services, err, "--full")
    assert "progress" not in quiet_err.getvalue() and "progress: " in err.getvalue()
    # Time and the request count vary from run to run (how many reads share a JSON batch); all else not.
    varying = re.compile(r"(elapsed_s|graph_requests)=\S+")
    assert varying.sub("", out) == varying.sub("", quiet_out)


async def test_a_terminal_gets_one_line_redrawn_in_place_and_cleared_before_anything_else(
    sim: GraphSim, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    err = FakeTerminal()
    code, out = await _apply(services, err, "--full")
    assert code == cli.EXIT_OK
    progress, _, after = err.getvalue().rpartition(CLEAR_LINE)  # the line is cleared before anything else
    frames = progress.split(CLEAR_LINE)
    assert frames[0] == "" and "\n" not in progress
    frames = frames[1:]
    assert after and all(line.startswith("! ") for line in after.splitlines())  # the refused apps, as ever
    apps = _summary_value(out, "apps_seen") + _summary_value(out, "refused")
    assert frames[0] == f"0 of {apps} apps · 0 writes · 0 throttled"
    assert all(PROGRESS.match(frame) for frame in frames)
    assert out.startswith("enforce cause=operator:test")


async def test_one_app_gets_no_progress(sim: GraphSim, services: Services) -> None:
    app = app_by_name(sim, "FinReport SQL")["id"]
    err = io.StringIO()
    code, _ = await _apply(services, err, "--app", app)
    assert code == cli.EXIT_OK
    assert "progress" not in err.getvalue()


async def test_plan_shows_progress_too_but_not_with_json(services: Services) -> None:
    for argv, shown in ((["plan"], True), (["plan", "--json"], False)):
        args = cli.parser().parse_args(["--as", "test", *argv])
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            await cli.COMMANDS["plan"](services, args)
        assert ("progress: 0 of " in err.getvalue()) is shown
        assert "progress" not in out.getvalue()

"""devstack's managed processes: a failed emulator start is reported with its log, and cleaned up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack.process import ManagedProcess, StartupError, free_port


def test_a_process_that_exits_is_reported_with_its_log_tail(tmp_path: Path) -> None:
    proc = ManagedProcess("fake-azurite", ["sh", "-c", "echo port already in use; exit 3"], tmp_path / "log")
    with pytest.raises(StartupError, match=r"(?s)fake-azurite exited with code 3.*port already in use"):
        proc.start([("127.0.0.1", free_port())], timeout=5)
    assert proc.pid is None


def test_a_process_that_never_listens_times_out_and_is_killed(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", ["sh", "-c", "echo waiting; exec sleep 30"], tmp_path / "log")
    proc.spawn()
    pid = proc.pid
    assert pid is not None
    with pytest.raises(StartupError, match=r"(?s)did not listen .* within 0 s.*waiting"):
        proc.wait_ready([("127.0.0.1", free_port())], timeout=0.3)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

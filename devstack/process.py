"""A managed subprocess: started in its own process group, awaited until its ports accept
connections, and always stopped (context exit, explicit stop, or interpreter exit via atexit).

Azurite and, later, a graphsim server are both "a command that listens on some loopback ports";
this module knows nothing else about them.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

_LIVE: set[ManagedProcess] = set()
_PR_SET_PDEATHSIG = 1


class StartupError(RuntimeError):
    """The process exited or did not open its ports in time; the message has its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class ManagedProcess:
    """One child process with a log file; use as a context manager or call start()/stop()."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, wait_for: Sequence[tuple[str, int]] = (), timeout: float = 30.0) -> None:
        """Start the process and wait until every (host, port) accepts connections."""
        self.spawn()
        self.wait_ready(wait_for, timeout)

    def spawn(self) -> None:
        """Start the process without waiting; follow with wait_ready()."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(  # noqa: S603 - argv is built by devstack, not user input
                self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        _LIVE.add(self)

    def wait_ready(self, endpoints: Sequence[tuple[str, int]], timeout: float = 30.0) -> None:
        """Wait until every (host, port) accepts connections; stop the process and raise otherwise."""
        try:
            self._poll_ready(endpoints, timeout)
        except BaseException:
            self.stop()
            raise

    def _poll_ready(self, endpoints: Sequence[tuple[str, int]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(endpoints)
        while pending:
            if self._proc is None:
                raise StartupError(f"{self.name} is not running")
            if self._proc.poll() is not None:
                raise StartupError(f"{self.name} exited with code {self._proc.returncode}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise StartupError(f"{self.name} did not listen on {pending} within {timeout:.0f} s\n"
                                   f"{self.log_tail()}")
            pending = [(h, p) for h, p in pending if not port_open(h, p)]
            if pending:
                time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the process log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(f"  | {line}" for line in text.splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after `grace` seconds. Idempotent."""
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies, even by SIGKILL,
    so a killed test run never leaves an emulator behind (atexit does not run on SIGKILL/SIGTERM)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_LIVE):
        proc.stop(grace=2.0)

"""graphsim as a real server in its own process, on a free loopback port, with a chosen tenant.

The demo and the benchmark talk to it over a socket, exactly as the product talks to Graph; running it
in a separate process keeps its memory and CPU out of the benchmark's figures.

    with GraphsimServer.start(tenant="demo") as graph:
        graph.base_url   # http://127.0.0.1:PORT/v1.0
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from devstack.azurite import REPO_ROOT
from devstack.process import ManagedProcess, StartupError, free_port

HOST = "127.0.0.1"


@dataclass
class GraphsimServer:
    """A running `python -m graphsim`; stop() (or leaving `with`) ends it and removes its folder."""

    port: int
    workdir: Path
    process: ManagedProcess

    @property
    def root(self) -> str:
        """http://127.0.0.1:PORT (the control plane lives under /_sim/)."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Graph v1.0 base URL to put in PIMWARDEN_GRAPH_BASE_URL."""
        return f"{self.root}/v1.0"

    @classmethod
    def start(cls, tenant: str = "demo", timeout: float = 60.0, attempts: int = 3) -> GraphsimServer:
        """Start with `tenant` (demo, empty, generate:N or a seed file); retried on a port race."""
        for attempt in range(1, attempts + 1):
            workdir = Path(tempfile.mkdtemp(prefix="pimwarden-graphsim-"))
            port = free_port()
            process = ManagedProcess("graphsim", [
                sys.executable, "-m", "graphsim", "--host", HOST, "--port", str(port), "--tenant", tenant,
            ], workdir / "graphsim.log", cwd=REPO_ROOT)
            try:
                process.start([(HOST, port)], timeout)
                return cls(port, workdir, process)
            except StartupError:
                shutil.rmtree(workdir, ignore_errors=True)
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the process and remove its folder. Idempotent."""
        self.process.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> GraphsimServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

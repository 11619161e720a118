"""Azurite (Table + Queue) on free loopback ports, data in memory, logs in a throwaway folder.

    with Azurite.start() as azurite:
        store = StateStore.from_connection_string(azurite.connection_string, "demo")

`python -m devstack.azurite` starts it and prints the connection string until Ctrl-C.
Runs `npm ci` first when node_modules lacks Azurite. The well-known account key below is Azurite's
public development key, not a secret.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from devstack.process import ManagedProcess, StartupError, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
HOST = "127.0.0.1"
_COMMON_FLAGS = ["--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"]


def connection_string(table_port: int, queue_port: int, host: str = HOST) -> str:
    """An Azurite connection string for the given ports."""
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"TableEndpoint=http://{host}:{table_port}/{ACCOUNT};"
            f"QueueEndpoint=http://{host}:{queue_port}/{ACCOUNT};")


def ensure_node_modules(root: Path = REPO_ROOT) -> Path:
    """Path of node_modules/.bin, running `npm ci` first when Azurite is not installed."""
    bin_dir = root / "node_modules" / ".bin"
    if not (bin_dir / "azurite-table").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise StartupError("npm is not installed; it is needed to install Azurite (npm ci)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=root, check=True)  # noqa: S603
    return bin_dir


@dataclass
class Azurite:
    """Running azurite-table and azurite-queue processes; stop() (or leaving `with`) ends both."""

    table_port: int
    queue_port: int
    workdir: Path
    processes: list[ManagedProcess]

    @property
    def connection_string(self) -> str:
        return connection_string(self.table_port, self.queue_port)

    @classmethod
    def start(cls, timeout: float = 30.0, attempts: int = 3) -> Azurite:
        """Start on free ports; retried on a port race, with the log tail in the error otherwise."""
        bin_dir = ensure_node_modules()
        for attempt in range(1, attempts + 1):
            workdir = Path(tempfile.mkdtemp(prefix="pimwarden-azurite-"))
            try:
                return cls._start_once(bin_dir, workdir, timeout)
            except StartupError:
                shutil.rmtree(workdir, ignore_errors=True)
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(cls, bin_dir: Path, workdir: Path, timeout: float) -> Azurite:
        table_port, queue_port = free_port(), free_port()
        table = ManagedProcess("azurite-table", [
            str(bin_dir / "azurite-table"), "--tableHost", HOST, "--tablePort", str(table_port),
            "--inMemoryPersistence", *_COMMON_FLAGS,
        ], workdir / "azurite-table.log", cwd=workdir)
        queue = ManagedProcess("azurite-queue", [
            str(bin_dir / "azurite-queue"), "--queueHost", HOST, "--queuePort", str(queue_port),
            "--inMemoryPersistence", *_COMMON_FLAGS,
        ], workdir / "azurite-queue.log", cwd=workdir)
        started = cls(table_port, queue_port, workdir, [table, queue])
        try:
            table.spawn()
            queue.spawn()
            table.wait_ready([(HOST, table_port)], timeout)
            queue.wait_ready([(HOST, queue_port)], timeout)
        except BaseException:
            started.stop()
            raise
        return started

    def stop(self) -> None:
        """Stop both processes and remove the data folder. Idempotent."""
        for proc in self.processes:
            proc.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main() -> None:
    """Run Azurite until interrupted, printing the connection string."""
    with Azurite.start() as azurite:
        print(azurite.connection_string, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

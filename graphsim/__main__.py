"""`python -m graphsim --port PORT [--host 127.0.0.1] [--tenant demo|empty|generate:N|PATH.json]`."""

from __future__ import annotations

import argparse
import ipaddress

import uvicorn

from graphsim.app import build_app
from graphsim.tenants import load


def main(argv: list[str] | None = None) -> None:
    """Serve the simulator until stopped."""
    parser = argparse.ArgumentParser(prog="python -m graphsim", description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    args = parser.parse_args(argv)
    if not args.allow_remote and not _loopback(args.host):
        parser.error("graphsim listens on loopback only; pass --allow-remote to bind elsewhere")
    app = build_app(load(args.tenant))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    main()

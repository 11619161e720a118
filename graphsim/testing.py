"""Helpers for tests and other engineers: a real server in a thread, an in-process transport, and a
REAL msgraph-sdk GraphServiceClient wired the way production wires it (graph.md appendix).

In-process: `graph_client(asgi_transport(app))` talks to https://graph.local/v1.0 with no sockets.
Real server: `with SimServer(app) as server: graph_client(server.base_url)`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
import uvicorn

from graphsim import tokens
from graphsim.app import GraphSim

IN_PROCESS_BASE = "https://graph.local/v1.0"
SCOPES = ["https://graph.microsoft.com/.default"]


def mint_token(
    roles: Iterable[str], *, client: str = "graphsim client", app_id: str | None = None,
    object_id: str | None = None,
) -> str:
    """The token `POST /_sim/tokens` answers for these arguments, without HTTP."""
    return tokens.mint(roles, client=client, app_id=app_id, object_id=object_id)


class StaticCredential:
    """An azure-identity-shaped credential that always returns the same bearer token."""

    def __init__(self, token: str = "graphsim-token") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """A fixed AccessToken valid for an hour."""
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def asgi_transport(app: GraphSim) -> httpx.ASGITransport:
    """An httpx transport that calls the ASGI app in-process."""
    return httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # GraphSim is an ASGI callable


def graph_client(
    transport_or_base_url: httpx.AsyncBaseTransport | str,
    *,
    max_retries: int = 3,
    token: str = "graphsim-token",
) -> Any:
    """A real msgraph-sdk GraphServiceClient pointed at graphsim (in-process or a real server), sending
    `token` (the default opaque token holds no permission: only an app built with check_permissions=False
    answers it)."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph.graph_service_client import GraphServiceClient
    from msgraph_core import GraphClientFactory

    if isinstance(transport_or_base_url, str):
        http, base, hosts = httpx.AsyncClient(), transport_or_base_url, []
    else:
        http, base, hosts = (
            httpx.AsyncClient(transport=transport_or_base_url),
            IN_PROCESS_BASE,
            ["graph.local"],
        )
    options = {RetryHandlerOption.get_key(): RetryHandlerOption(delay=0.01, max_retries=max_retries)}
    client = GraphClientFactory.create_with_default_middleware(client=http, options=options)
    auth = AzureIdentityAuthenticationProvider(StaticCredential(token), scopes=SCOPES, allowed_hosts=hosts)
    adapter = GraphRequestAdapter(auth, client=client)
    adapter.base_url = base
    return GraphServiceClient(request_adapter=adapter)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SimServer:
    """Runs the ASGI app under uvicorn in a background thread on a free loopback port."""

    def __init__(self, app: GraphSim, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        """http://host:port"""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """http://host:port/v1.0"""
        return f"{self.root}/v1.0"

    def start(self) -> SimServer:
        """Start serving; returns when the port accepts connections."""
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="graphsim")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("graphsim server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

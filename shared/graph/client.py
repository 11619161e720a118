"""Builds the msgraph-sdk client PIM Warden uses, the same way in Azure, against graphsim and in tests.

The SDK's own retry middleware is switched off: the gateway owns retries (one layer, honouring
Retry-After, aware of which writes are keyed), so requests are never retried twice over.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.request_option import RequestOption
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption, UrlReplaceHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import APIVersion, GraphClientFactory
from msgraph_core.middleware.options import GraphTelemetryHandlerOption

from shared.url_rules import graph_scope


def _middleware_options() -> dict[str, RequestOption]:
    return {
        RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0, should_retry=False),
        UrlReplaceHandlerOption.get_key(): UrlReplaceHandlerOption(enabled=False, replacement_pairs={}),
        GraphTelemetryHandlerOption.get_key(): GraphTelemetryHandlerOption(api_version=APIVersion.v1),
    }


def remember_missing_sniffio() -> None:
    """httpcore runs `import sniffio` on every request; without sniffio installed (httpx and anyio no
    longer need it) each failed import searches all of sys.path again, a measurable share of the
    engine's CPU. A None entry in sys.modules makes the import fail at once, as it would anyway."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def build_graph_client(
    base_url: str,
    credential: Any,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout_s: float = 30.0,
    max_connections: int = 32,
) -> GraphServiceClient:
    """A GraphServiceClient that sends a bearer token from `credential` to `base_url`.

    `transport` lets tests run graphsim in-process (httpx.ASGITransport); in Azure it is None.
    """
    remember_missing_sniffio()
    host = urlsplit(base_url).hostname or ""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    http = httpx.AsyncClient(transport=transport, timeout=timeout_s, limits=limits, follow_redirects=False)
    http = GraphClientFactory.create_with_default_middleware(client=http, options=_middleware_options())
    # allowed_hosts names the host explicitly: kiota then sends the token to it and to nothing else.
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=[graph_scope(base_url)], allowed_hosts=[host]
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = base_url.rstrip("/")  # set after construction: the factory overwrites it
    return GraphServiceClient(request_adapter=adapter)

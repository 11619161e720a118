"""Fixtures for graphsim tests: a fresh simulator, raw HTTP clients over ASGI, the real msgraph-sdk,
and a real server (uvicorn on a free loopback port) for the tests that must cross a socket.

These are graphsim's own low-level tests (state rules, OData, faults, fidelity of shapes), so their
simulator skips permission checks (`check_permissions=False`); test_permissions.py checks them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from graphsim.app import GraphSim, build_app
from graphsim.testing import IN_PROCESS_BASE, SimServer, asgi_transport, graph_client

AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture
def sim() -> GraphSim:
    """A fresh simulator over an empty tenant (permissions unchecked: low-level tests only)."""
    return build_app(check_permissions=False)


@pytest.fixture
async def http(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to /v1.0 in-process, with a bearer token."""
    async with httpx.AsyncClient(transport=asgi_transport(sim), base_url=IN_PROCESS_BASE, headers=AUTH) as c:
        yield c


@pytest.fixture
async def ctl(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the /_sim control plane in-process."""
    async with httpx.AsyncClient(transport=asgi_transport(sim), base_url="https://graph.local/_sim") as c:
        yield c


@pytest.fixture
def sdk(sim: GraphSim) -> Any:
    """A real msgraph-sdk GraphServiceClient talking to the simulator in-process."""
    return graph_client(asgi_transport(sim), max_retries=0)


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    """The simulator served by uvicorn on a free loopback port (shared by a module's tests)."""
    with SimServer(build_app(check_permissions=False)) as running:
        yield running


async def seed(ctl: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """Seed the simulator, failing loudly if it refuses."""
    resp = await ctl.post("/seed", json=body)
    assert resp.status_code == 200, resp.text


def assert_subset(documented: dict[str, Any], actual: dict[str, Any]) -> None:
    """Every documented property is present with the documented value."""
    for key, value in documented.items():
        assert key in actual, f"missing {key}"
        assert actual[key] == value, f"{key}: {actual[key]!r} != {value!r}"


def assert_graph_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is Graph's error body with this status and code."""
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)

"""GET /api/health?deep=true: the preflight behind the reader role, through the real entry point."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest

from graphsim.testing import SimServer
from shared import runtime
from shared.functions import health

from .conftest import Env, token


async def call(bearer: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    req = func.HttpRequest(
        method="GET", url="http://localhost/api/health", body=b"", headers=headers, params={"deep": "true"}
    )
    resp = await health.health(req)
    return resp.status_code, json.loads(resp.get_body())


async def test_deep_health_needs_a_bearer_token_with_the_reader_role(env: Env) -> None:
    assert (await call(None))[0] == 401
    status, body = await call(token(roles=("Something.Else",)))
    assert status == 403 and body["error_code"] == "missing_app_role"


async def test_deep_health_answers_the_preflight_report(
    env: Env, azurite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SimServer(env.sim) as server:
        monkeypatch.setenv("PimWardenStorage", azurite)
        monkeypatch.setenv("PIMWARDEN_GRAPH_BASE_URL", server.base_url)
        monkeypatch.setenv("PIMWARDEN_CREDENTIAL", "static-dev-token")
        runtime.reset()
        status, body = await call(token(roles=("PimWarden.Reader",)))
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["state storage"]["status"] == "pass"
    assert checks["probe: list service principals (discovery)"]["status"] == "pass"
    assert any(name.startswith("permission") for name in checks)  # the token's roles were compared
    assert status == (200 if body["ok"] else 503)
    assert body["ok"] is all(c["status"] != "fail" for c in body["checks"])

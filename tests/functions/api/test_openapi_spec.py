"""docs/openapi.yaml is valid OpenAPI 3.1, describes exactly the HTTP routes the function app registers,
and says truly which of them need a bearer token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from shared.api import wiring
from shared.api.bearer import JwksCache, TokenValidator
from shared.functions import compliance, health, operator, reconcile, requests_status, tickets

from .conftest import JWKS_URL, config

ROOT = Path(__file__).resolve().parents[3]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())


def test_spec_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def http_functions() -> Iterator[Any]:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    for blueprint in (health.bp, tickets.bp, requests_status.bp, operator.bp, reconcile.bp, compliance.bp):
        app.register_functions(blueprint)
    yield from (f for f in app.get_functions() if f.is_http_function())


def test_every_registered_route_is_in_the_spec_with_its_methods() -> None:
    routes: dict[str, set[str]] = {}
    for function in http_functions():
        trigger = function.get_trigger()
        if function.is_http_function():
            routes.setdefault("/" + trigger.route, set()).update(
                str(m).split(".")[-1].lower() for m in trigger.methods
            )
    documented = {
        path: {m for m in item if m in ("get", "post", "put", "patch", "delete")}
        for path, item in SPEC["paths"].items()
    }
    assert routes == documented
    assert not any(r.lstrip("/").lower().startswith("admin") for r in routes)


@pytest.fixture
def tokens_only() -> Iterator[None]:
    """Only the token check is real: a route that passes it without a token would fail on what follows."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"keys": []}))
    tokens = TokenValidator(config().tokens, JwksCache(JWKS_URL, transport=transport))
    wiring.install(wiring.ApiServices(None, config(), None, tokens))  # type: ignore[arg-type]
    yield
    wiring.uninstall()


def _bearer_in_spec(route: str, method: str) -> bool:
    security = SPEC["paths"][route][method].get("security", SPEC["security"])
    return any("entraBearer" in requirement for requirement in security)


async def test_the_spec_says_which_routes_need_a_bearer_token(tokens_only: None) -> None:
    """Called without a token, a route documented with entraBearer answers 401 missing_bearer_token;
    one documented without it never asks for one (it fails later, on the missing services)."""
    params = {"appId": "23b8c1e9-3924-46de-beb1-3b9046685257", "source": "generic", "requestId": "r_x"}
    checked = 0
    for function in http_functions():
        trigger = function.get_trigger()
        route = "/" + trigger.route
        if route == "/health":
            continue
        for method in (str(m).split(".")[-1] for m in trigger.methods):
            req = func.HttpRequest(method=method, url=f"http://localhost/api{route}", body=b"",
                                   route_params=params, headers={"content-type": "application/json"})
            resp = await function.get_user_function()(req)
            asked = resp.status_code == 401 and json.loads(resp.get_body()).get("error_code") == (
                "missing_bearer_token")
            assert asked is _bearer_in_spec(route, method.lower()), (route, method, resp.status_code)
            checked += 1
    assert checked >= 11

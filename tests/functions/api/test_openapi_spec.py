"""docs/openapi.yaml is valid OpenAPI 3.1 and describes exactly the HTTP routes the function app registers."""

from __future__ import annotations

from pathlib import Path

import azure.functions as func
import yaml
from openapi_spec_validator import validate

from shared.functions import health, operator, reconcile, requests_status, tickets

ROOT = Path(__file__).resolve().parents[3]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())


def test_spec_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_every_registered_route_is_in_the_spec_with_its_methods() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    for blueprint in (health.bp, tickets.bp, requests_status.bp, operator.bp, reconcile.bp):
        app.register_functions(blueprint)
    routes: dict[str, set[str]] = {}
    for function in app.get_functions():
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

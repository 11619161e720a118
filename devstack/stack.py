"""The local default settings pointed at a running stack, and the simulator's clock kept in step.

Shared by the demo and the benchmark: both start Azurite and graphsim on free ports and then run the
product with local.settings.sample.json, only the endpoints changed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx

from devstack.azurite import REPO_ROOT
from shared.settings import STORAGE_CONNECTION

GRAPH_BASE_URL = "PIMWARDEN_GRAPH_BASE_URL"
TENANT_ADMIN = "Tenant admin (demo)"


def admin_token_request() -> dict[str, object]:
    """The `POST /_sim/tokens` body for the story's other actors (a portal admin, users activating):
    every permission graphsim authorizes on, so their steps never mask a permission PIM Warden lacks."""
    from graphsim.permissions import RULES

    roles = sorted({name for rule in RULES.values() for option in rule.accepted for name in option})
    return {"client": TENANT_ADMIN, "roles": roles}


def mint_admin_token(http: httpx.Client) -> str:
    """A tenant admin's bearer token from graphsim's control plane (`http` points at its root)."""
    response = http.post("/_sim/tokens", json=admin_token_request())
    response.raise_for_status()
    return str(response.json()["access_token"])


def sample_settings(root: Path = REPO_ROOT) -> dict[str, str]:
    """The Values of local.settings.sample.json (the local default configuration)."""
    values: dict[str, str] = json.loads((root / "local.settings.sample.json").read_text())["Values"]
    return values


def local_environment(graph_base_url: str, storage_connection: str, **overrides: str) -> dict[str, str]:
    """The sample settings with Graph and storage pointed at the running stack (empty values dropped)."""
    values = {k: v for k, v in sample_settings().items() if v != ""}
    values.update({GRAPH_BASE_URL: graph_base_url, STORAGE_CONNECTION: storage_connection, **overrides})
    return values


def sync_sim_clock(http: httpx.Client, when: datetime | None = None) -> str:
    """Set graphsim's clock (it only moves when told) to `when`, default the wall clock; returns it."""
    moment = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    response = http.post("/_sim/clock", json={"now": moment})
    response.raise_for_status()
    return str(response.json()["now"])

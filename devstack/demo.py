"""`make demo`: start the local stack and run the app's health check through its real entry point.

Enforcement does not exist yet, so this demo does not pretend to enforce anything: it proves the
app indexes, reads the sample settings, and reaches state storage on a throwaway Azurite.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import azure.functions as func

from devstack.azurite import REPO_ROOT, Azurite
from shared.settings import STORAGE_CONNECTION


def sample_settings(root: Path = REPO_ROOT) -> dict[str, str]:
    """The Values of local.settings.sample.json (the local default configuration)."""
    values: dict[str, str] = json.loads((root / "local.settings.sample.json").read_text())["Values"]
    return values


async def call_health() -> func.HttpResponse:
    """Index function_app like the worker does and invoke the health function."""
    import function_app
    from shared import runtime

    [health] = [f for f in function_app.app.get_functions() if f.get_function_name() == "health"]
    try:
        request = func.HttpRequest(method="GET", url="http://localhost:7071/api/health", body=b"")
        response: Any = await health.get_user_function()(request)
        return response  # type: ignore[no-any-return]
    finally:
        await runtime.aclose()


def main() -> int:
    """Run the demo; exit code 0 when the app reports healthy."""
    with Azurite.start() as azurite:
        print(f"Azurite: table+queue on 127.0.0.1:{azurite.table_port}/{azurite.queue_port} (in memory)")
        os.environ.update({**sample_settings(), STORAGE_CONNECTION: azurite.connection_string})
        response = asyncio.run(call_health())
        print(f"GET /api/health -> {response.status_code}")
        print(response.get_body().decode())
    print("Enforcement is not implemented yet: this demo only reports health; no tenant was touched.")
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())

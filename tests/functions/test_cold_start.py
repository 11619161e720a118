"""Cold start: every new Functions instance imports function_app before its first trigger runs.

The worker's indexer needs only the blueprints' decorators, so importing function_app (or any
blueprint) must load azure.functions and light modules, never the SDKs the handlers use: those are
imported by the handler bodies (or `shared.api.wiring._build`) on first use. Each import runs in a
fresh interpreter, since this test process has long since loaded everything. No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import shared.functions

ROOT = Path(__file__).resolve().parents[2]

# Packages whose import costs tens to hundreds of milliseconds each (or pulls in one that does).
HEAVY = (
    "msgraph", "msgraph_core", "kiota_abstractions", "kiota_http",  # Graph SDK
    "azure.core", "azure.data.tables", "azure.storage.queue", "aiohttp", "requests",  # storage SDKs
    "azure.identity", "msal", "cryptography", "jwt", "httpx",  # credentials, bearer tokens, JWKS
    "opentelemetry", "azure.monitor",  # telemetry (the worker configures the distro, not the app)
)

def loaded_after_import(module: str) -> set[str]:
    """The modules a fresh interpreter holds after `import module`."""
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def heavy_in(loaded: set[str], heavy: tuple[str, ...]) -> list[str]:
    """The heavy packages (or any of their submodules) among `loaded`."""
    return sorted(h for h in heavy if any(m == h or m.startswith(h + ".") for m in loaded))


def blueprint_modules() -> list[str]:
    return sorted(f"shared.functions.{m.name}" for m in pkgutil.iter_modules(shared.functions.__path__))


@pytest.mark.parametrize("module", blueprint_modules())
def test_a_blueprint_imports_no_heavy_sdk(module: str) -> None:
    assert heavy_in(loaded_after_import(module), HEAVY) == []


def test_function_app_imports_no_heavy_sdk() -> None:
    loaded = loaded_after_import("function_app")
    assert "azure.functions" in loaded
    assert heavy_in(loaded, HEAVY) == []


def test_the_heavy_lists_name_installed_packages() -> None:
    """A misspelt entry would pass for ever: each one must be installed here."""
    assert [h for h in HEAVY if importlib.util.find_spec(h) is None] == []

"""The composition root builds nothing at import and caches per event loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import runtime
from shared.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]
CONN = "UseDevelopmentStorage=true"


def test_importing_the_app_reads_no_settings_and_builds_no_client() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIMWARDEN", "PimWarden"))}
    probe = ("import function_app; from shared import runtime; "
             "assert runtime._settings is None and len(runtime._scopes) == 0; print('clean')")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "clean", done.stderr


async def test_settings_are_read_once_and_clients_cached_per_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PimWardenStorage", CONN)
    runtime.reset()
    try:
        first = runtime.settings()
        monkeypatch.setenv("PIMWARDEN_TABLE_PREFIX", "changed")
        assert runtime.settings() is first and runtime.state_store() is runtime.state_store()
        assert runtime.graph_credential() is runtime.graph_credential()
    finally:
        await runtime.aclose()
    assert runtime.settings().table_prefix == "changed"
    runtime.reset()


def test_bad_settings_raise_on_use_not_on_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PimWardenStorage", raising=False)
    monkeypatch.delenv("PimWardenStorage__tableServiceUri", raising=False)
    runtime.reset()
    with pytest.raises(SettingsError, match="PimWardenStorage"):
        runtime.settings()
    runtime.reset()

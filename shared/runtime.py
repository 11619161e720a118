"""The composition root: builds settings, credentials and the state store on first use, then reuses them.

Nothing is built at import (an import-time failure would hide every function from the host, and
async clients bind to the event loop that created them). Settings are read once per process;
loop-bound objects (credentials, the StateStore) are cached per event loop. Tests call `reset()`
(or `await aclose()`) after changing the environment.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from azure.core.credentials_async import AsyncTokenCredential

from shared.credentials import build_credential, build_storage_credential
from shared.settings import Settings
from shared.storage import StateStore


@dataclass
class _LoopScope:
    """Clients bound to one event loop."""

    graph_credential: AsyncTokenCredential | None = None
    storage_credential: AsyncTokenCredential | None = None
    store: StateStore | None = None


_settings: Settings | None = None
_scopes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopScope] = weakref.WeakKeyDictionary()


def settings(env: Mapping[str, str] | None = None) -> Settings:
    """The validated settings (read from `env`, default os.environ, on first call); SettingsError if bad."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env(os.environ if env is None else env)
    return _settings


def _scope() -> _LoopScope:
    loop = asyncio.get_running_loop()
    scope = _scopes.get(loop)
    if scope is None:
        scope = _scopes[loop] = _LoopScope()
    return scope


def graph_credential() -> AsyncTokenCredential:
    """The credential for Microsoft Graph, built once per event loop."""
    scope = _scope()
    if scope.graph_credential is None:
        scope.graph_credential = build_credential(settings())
    return scope.graph_credential


def state_store() -> StateStore:
    """The StateStore, built once per event loop (no I/O until first used)."""
    scope = _scope()
    if scope.store is None:
        current = settings()
        if not current.storage.uses_connection_string:
            scope.storage_credential = build_storage_credential(current)
        scope.store = StateStore.from_settings(current, scope.storage_credential)
    return scope.store


async def aclose() -> None:
    """Close what this event loop built and forget everything (tests, orderly shutdown)."""
    scope = _scopes.pop(asyncio.get_running_loop(), None)
    if scope is not None:
        if scope.store is not None:
            await scope.store.close()
        for credential in (scope.graph_credential, scope.storage_credential):
            if credential is not None:
                await credential.close()
    reset()


def reset() -> None:
    """Forget cached settings and clients so the next use reads the environment again."""
    global _settings
    _settings = None
    _scopes.clear()

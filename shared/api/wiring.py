"""The HTTP side's composition: engine services plus its own config, queue producer and token checker.

Built lazily on first use per event loop (never at import), like `shared.runtime`; tests `install()`
their own (graphsim, Azurite, a local key set) and `uninstall()` afterwards. Light to import (the
blueprints import it at cold start): the engine, token checker and queue producer are imported by
`_build`, on first use.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.api.plan_sharing import SharedRuns

if TYPE_CHECKING:
    from shared.api.bearer import TokenValidator
    from shared.api.config import ApiConfig
    from shared.api.reconcile_queue import ReconcileQueue
    from shared.engine.run import RunSummary
    from shared.engine.services import Services
    from shared.storage.ticks import TickProgress


@dataclass
class ApiServices:
    """What every HTTP route needs."""

    engine: Services
    config: ApiConfig
    queue: ReconcileQueue
    tokens: TokenValidator
    plans: SharedRuns[RunSummary] = field(default_factory=SharedRuns)
    progress: TickProgress | None = None  # this process's tick counters (shared/functions/reconcile.py)


_built: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ApiServices] = weakref.WeakKeyDictionary()
_installed: ApiServices | None = None


def current() -> ApiServices:
    """The installed services (tests), else the ones built from app settings for this event loop."""
    if _installed is not None:
        return _installed
    loop = asyncio.get_running_loop()
    services = _built.get(loop)
    if services is None:
        services = _built[loop] = _build()
    return services


def install(services: ApiServices) -> None:
    """Use `services` for every route until `uninstall()` (tests)."""
    global _installed
    _installed = services


def uninstall() -> None:
    """Forget installed and built services."""
    global _installed
    _installed = None
    _built.clear()


def _build() -> ApiServices:
    from shared.api.bearer import JwksCache, TokenValidator
    from shared.api.config import ApiConfig
    from shared.api.reconcile_queue import ReconcileQueue
    from shared.credentials import build_storage_credential
    from shared.engine.services import build_services
    from shared.settings import SettingsError

    engine = build_services()
    config = ApiConfig.from_env(os.environ)
    storage = engine.settings.storage
    if storage.connection_string is not None:
        queue = ReconcileQueue.from_connection_string(storage.connection_string)
    elif storage.queue_service_uri is not None:
        queue = ReconcileQueue.from_service_uri(
            storage.queue_service_uri, build_storage_credential(engine.settings)
        )
    else:
        raise SettingsError(
            ["PimWardenStorage__queueServiceUri: the reconcile queue needs it with a service URI"]
        )
    keys = JwksCache(config.tokens.jwks_url) if config.tokens.jwks_url else None
    return ApiServices(engine, config, queue, TokenValidator(config.tokens, keys))

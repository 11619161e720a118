"""GET /api/health: is this deployment usable? Reports version, settings, ticket sources, storage.

Anonymous, so it must never reveal a secret: settings problems are reported by setting name only,
URLs without user info or query string, and storage failures by error class and status code, never
by message or connection string. Graph is not called (that would spend a token request per probe);
its settings are validated. A ticket source whose secrets or mapping would make every delivery fail
counts as a settings problem (503), so monitoring alerts before the sender gives up retrying.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

import azure.functions as func

from shared import __version__
from shared.api.http import flag, handle, headers_of
from shared.settings import SettingsError

if TYPE_CHECKING:
    from shared.storage import StateStore

bp = func.Blueprint()  # type: ignore[no-untyped-call]
STORAGE_TIMEOUT_SECONDS = 3.0


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health(req: func.HttpRequest) -> func.HttpResponse:
    """Answer 200 with the report when healthy, 503 otherwise (`?deep=true`: the preflight, reader role)."""
    if flag(req, "deep"):
        from shared.api import preflight

        return await handle(lambda api: preflight.deep_health(api, headers_of(req)))
    report = await health_report()
    return func.HttpResponse(json.dumps(report, indent=2), status_code=200 if report["healthy"] else 503,
                             mimetype="application/json")


async def health_report() -> dict[str, Any]:
    """The health report as plain data (no secrets)."""
    from shared import runtime

    sections: dict[str, Any] = {}
    try:
        settings = runtime.settings()
        _check_feature_settings(settings, sections)
    except SettingsError as exc:
        problems = [p.split(":", 1)[0] for p in exc.problems]
        return {"healthy": False, "version": __version__,
                "settings": {"valid": False, "invalid": sorted(set(problems))}, **sections}
    storage = await _storage_status()
    permissions = await _permission_status() if storage["reachable"] else None
    return {
        "healthy": storage["reachable"] and (permissions is None or permissions["ok"]),
        "version": __version__,
        "settings": {"valid": True},
        "graph": {**settings.describe()["graph"], "usable": True, "checked": "settings only"},
        "storage": {**settings.describe()["storage"], **storage},
        **sections,
        "permissions": permissions or {"ok": True, "checked": "last enforcement run"},
        **(await _unreadable_apps() if storage["reachable"] else {}),
        **(await _reconcile_queue() if storage["reachable"] else {}),
    }


async def _unreadable_apps() -> dict[str, Any]:
    """How many app rows cannot be read (`status` and /api/apps name them; anonymous callers get a
    count). They don't make the deployment unhealthy: every other app is still enforced."""
    try:
        async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS):
            scan = await _state_store().apps.scan()
    except Exception:  # reachable a moment ago: leave the figure out rather than fail the probe
        return {}
    return {"apps": {"state_unreadable": len(scan.unreadable)}}


async def _reconcile_queue() -> dict[str, Any]:
    """The latest tick's progress and the poisoned-message count (counts only: health is anonymous).
    Poisoned messages do not make the deployment unhealthy: their apps are looked at again later."""
    from shared.api.queue_status import anonymous_view, queue_status
    from shared.engine.services import build_services

    try:
        async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS):
            return {"reconcile_queue": anonymous_view(await queue_status(build_services()))}
    except Exception:  # reachable a moment ago: leave the figures out rather than fail the probe
        return {}


def _check_feature_settings(settings: Any, sections: dict[str, Any]) -> None:
    """Validate the engine's, the HTTP API's (ticket sources included) and the compliance trail's own
    settings too, so a typo there shows here instead of only when a timer or webhook runs. Raises
    SettingsError naming every problem; adds the `ticket_sources` section when the API's settings read."""
    from shared.api.config import ApiConfig
    from shared.api.source_checks import source_problems, source_states
    from shared.compliance.service import ComplianceConfig
    from shared.engine.services import engine_config

    problems: list[str] = []

    def api() -> None:
        config = ApiConfig.from_env(os.environ)
        sections["ticket_sources"] = {name: state.value for name, state in source_states(config).items()}
        if found := source_problems(config):
            raise SettingsError(found)

    for check in (lambda: engine_config(settings), api, lambda: ComplianceConfig.from_env(os.environ)):
        try:
            check()
        except SettingsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SettingsError(problems)


async def _permission_status() -> dict[str, Any] | None:
    """What the last enforcement run could not do for want of a Graph permission (None: nothing)."""
    from shared.permissions.status import load

    try:
        async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS):
            status = await load(_state_store().cursors)
    except Exception:  # health reports storage on its own; a failed read here is not a permission problem
        return None
    return status.as_dict() if status else None


async def _storage_status() -> dict[str, Any]:
    try:
        async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS):
            await _state_store().ping()
    except TimeoutError:
        return {"reachable": False, "error": f"no answer within {STORAGE_TIMEOUT_SECONDS:.0f} s"}
    except Exception as exc:  # any failure means "not usable"; report only its kind
        return {"reachable": False, "error": _error_kind(exc)}
    return {"reachable": True}


def _state_store() -> StateStore:
    from shared import runtime

    return runtime.state_store()


def _error_kind(exc: Exception) -> str:
    from azure.core.exceptions import HttpResponseError

    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        return f"{type(exc).__name__} (HTTP {exc.status_code})"
    return type(exc).__name__

"""The operator API (thin): function key AND an Entra ID bearer token with the route's app role.

Routes avoid the host's reserved `admin` prefix. Each handler checks the token, then calls one
service in `shared.api.operator`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import azure.functions as func

from shared.api.http import flag, handle, headers_of

if TYPE_CHECKING:
    from shared.api.answers import Answer
    from shared.api.bearer import Operator
    from shared.api.wiring import ApiServices

    Action = Callable[[ApiServices, Operator], Awaitable[Answer]]

bp = func.Blueprint()  # type: ignore[no-untyped-call]


async def _as_operator(req: func.HttpRequest, action: Action, *, write: bool) -> func.HttpResponse:
    async def run(api: ApiServices) -> Answer:
        who = await api.tokens.operator(headers_of(req), write=write)
        return await action(api, who)

    return await handle(run)


@bp.route(route="resync", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def resync_all(req: func.HttpRequest) -> func.HttpResponse:
    """Re-sync every app in the background (or, with ?dryRun=true, return the plan)."""
    from shared.api import operator as service

    dry = flag(req, "dryRun")
    return await _as_operator(
        req, lambda api, who: service.resync(api, who, None, dry_run=dry), write=not dry
    )


@bp.route(route="resync/{appId}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def resync_app(req: func.HttpRequest) -> func.HttpResponse:
    """Re-sync one app inline within a budget (or, with ?dryRun=true, return its plan)."""
    from shared.api import operator as service

    dry, app = flag(req, "dryRun"), req.route_params.get("appId", "")
    return await _as_operator(req, lambda api, who: service.resync(api, who, app, dry_run=dry), write=not dry)


@bp.route(route="apps", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def list_apps(req: func.HttpRequest) -> func.HttpResponse:
    """Every app PIM Warden knows."""
    from shared.api import operator as service

    return await _as_operator(req, lambda api, who: service.list_apps(api), write=False)


@bp.route(route="apps/{appId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def get_app(req: func.HttpRequest) -> func.HttpResponse:
    """One app: state, profile, groups, drift, last error, eligible members."""
    from shared.api import operator as service

    app = req.route_params.get("appId", "")
    return await _as_operator(req, lambda api, who: service.app_detail(api, app), write=False)


@bp.route(route="apps/{appId}/registration", methods=["POST", "DELETE"], auth_level=func.AuthLevel.FUNCTION)
async def app_registration(req: func.HttpRequest) -> func.HttpResponse:
    """POST registers the app under a profile; DELETE removes the registration."""
    from shared.api import operator as service

    app, body = req.route_params.get("appId", ""), req.get_body()
    if req.method.upper() == "DELETE":
        return await _as_operator(req, lambda api, who: service.deregister(api, who, app), write=True)
    return await _as_operator(req, lambda api, who: service.register(api, who, app, body), write=True)

"""GET /api/requests/{requestId}: what became of a ticket request (thin: the status service, JSON out)."""

from __future__ import annotations

import azure.functions as func

from shared.api.http import handle

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.route(route="requests/{requestId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def request_status_http(req: func.HttpRequest) -> func.HttpResponse:
    """pending, applied (read back from PIM), ignored or refused (with why)."""
    from shared.api.status import request_status

    rid = req.route_params.get("requestId", "")
    return await handle(lambda api: request_status(api, rid))

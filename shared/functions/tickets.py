"""POST /api/tickets/{source}: ticket webhooks (thin: raw bytes in, the intake service, JSON out).

Key level FUNCTION (a coarse gate) plus the per-source message signature checked by the service.
"""

from __future__ import annotations

import azure.functions as func

from shared.api.http import handle, headers_of

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@bp.route(route="tickets/{source}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def ticket_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Record what a signed ticket asks for; 202 with a request id, or a 4xx with a code."""
    from shared.api.intake import receive_ticket
    from shared.telemetry.messaging import webhook_span

    source = req.route_params.get("source", "")
    with webhook_span(source) as delivery:
        response = await handle(lambda api: receive_ticket(api, source, headers_of(req), req.get_body()))
        delivery.answered(response.status_code, response.get_body())
    return response

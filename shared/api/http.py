"""Mapping between Azure Functions HTTP objects and the services' plain values and `Answer`s.

`handle` is the one place where errors become HTTP: a `Refusal` is its own answer; storage or
directory trouble is 503 with Retry-After; settings problems are 503 naming nothing secret; anything
else is a bug, logged by type and answered 500 with a JSON body (never a traceback, never the body).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import azure.functions as func

from shared.api import wiring
from shared.api.answers import Answer, Refusal, permission_missing, unavailable, unavailable_for
from shared.api.wiring import ApiServices
from shared.graph.errors import GraphError, PermissionMissingError
from shared.settings import SettingsError

log = logging.getLogger("pimwarden.http")
Service = Callable[[ApiServices], Awaitable[Answer]]


async def handle(service: Service) -> func.HttpResponse:
    """Run a route's service with the current ApiServices and turn the outcome into a response."""
    from azure.core.exceptions import AzureError  # the SDKs load on first use, not at cold start

    from shared.storage import StorageError

    try:
        answer = await service(wiring.current())
    except Refusal as refusal:
        answer = refusal.answer()
    except (StorageError, AzureError) as error:
        log.warning("storage unavailable: %s", type(error).__name__)
        answer = unavailable().answer()
    except PermissionMissingError as error:
        log.error("%s", error)
        answer = permission_missing(error).answer()
    except GraphError as error:
        log.warning("directory unavailable: %s", type(error).__name__)
        answer = unavailable_for(error).answer()
    except SettingsError as error:
        log.error("settings: %s", "; ".join(p.split(":", 1)[0] for p in error.problems))
        answer = unavailable("not_configured", "the service's settings are invalid").answer()
    except Exception as error:
        log.exception("unexpected %s", type(error).__name__)
        answer = Answer(500, {"error_code": "internal_error"})
    return to_response(answer)


def to_response(answer: Answer) -> func.HttpResponse:
    """The Answer as a JSON HttpResponse."""
    return func.HttpResponse(
        json.dumps(answer.body),
        status_code=answer.status,
        headers=dict(answer.headers),
        mimetype="application/json",
        charset="utf-8",
    )


def flag(req: func.HttpRequest, name: str) -> bool:
    """A boolean query parameter (`?dryRun=true`)."""
    return (req.params.get(name) or "").strip().lower() in ("true", "1", "yes")


def headers_of(req: func.HttpRequest) -> dict[str, str]:
    """The request headers as a plain dict."""
    return {str(k): str(v) for k, v in req.headers.items()}

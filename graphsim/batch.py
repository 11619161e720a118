"""JSON batching (`POST /$batch`): up to 20 inner requests, unique ids, dependsOn, per-request status.

Why through the same `handle()`: inner requests must meet exactly the rules, faults and throttling
of direct requests (each inner request is evaluated on its own; docs: json-batching, throttling).
The outer status is 200 whenever the batch parsed, 400 only for a malformed batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from graphsim.errors import GraphError
from graphsim.http import SimRequest, SimResponse

MAX_REQUESTS = 20
Handle = Callable[..., SimResponse]


def malformed(message: str) -> GraphError:
    """The whole batch is refused."""
    return GraphError(400, "BadRequest", message)


def _validate(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise malformed("Invalid batch payload format.")
    requests: list[dict[str, Any]] = body["requests"]
    if not requests or len(requests) > MAX_REQUESTS:
        raise malformed(f"Batch request must contain between 1 and {MAX_REQUESTS} requests.")
    ids: set[str] = set()
    for item in requests:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("id", "method", "url")
        ):
            raise malformed("Each batch request must have string 'id', 'method' and 'url' properties.")
        if item["id"] in ids:
            raise malformed(f"Batch request ids must be unique; '{item['id']}' is repeated.")
        ids.add(item["id"])
        headers = item.get("headers") or {}
        if not isinstance(headers, dict):
            raise malformed("Batch request 'headers' must be an object.")
        if "body" in item and not any(k.lower() == "content-type" for k in headers):
            raise malformed(f"Batch request '{item['id']}' has a body but no Content-Type header.")
    for item in requests:
        depends = item.get("dependsOn") or []
        if not isinstance(depends, list) or any(d not in ids or d == item["id"] for d in depends):
            raise malformed(f"Batch request '{item['id']}' has an invalid dependsOn.")
    return requests


def _inner(outer: SimRequest, item: dict[str, Any]) -> SimRequest:
    url = item["url"]
    parts = urlsplit(url)
    path = unquote(parts.path)
    if "/v1.0/" in path:
        path = path.split("/v1.0", 1)[1]
    path = "/" + path.lstrip("/")
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    headers.setdefault("authorization", outer.header("authorization"))
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    return SimRequest(
        item["method"].upper(), path, params, headers, item.get("body"), base_url=outer.base_url
    )


def _failed_dependency(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {
            "error": {
                "code": "FailedDependency",
                "message": "Failed dependency: a request this one depends on failed.",
            }
        },
    }


def run(req: SimRequest, handle: Handle) -> SimResponse:
    """Execute a batch in dependsOn order and collect the inner responses."""
    requests = _validate(req.body)
    status: dict[str, int] = {}
    responses = []
    for item in _ordered(requests):
        if any(status.get(d, 424) >= 400 for d in item.get("dependsOn") or []):
            status[item["id"]] = 424
            responses.append(_failed_dependency(item))
            continue
        resp = handle(_inner(req, item), inner=True)
        status[item["id"]] = resp.status
        responses.append(_render(item["id"], resp))
    return SimResponse(200, {"responses": responses})


def _ordered(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done: set[str] = set()
    result: list[dict[str, Any]] = []
    pending = list(requests)
    while pending:
        ready = [r for r in pending if set(r.get("dependsOn") or []) <= done]
        if not ready:
            raise malformed("Batch dependsOn contains a cycle.")
        for item in ready:
            result.append(item)
            done.add(item["id"])
            pending.remove(item)
    return result


def _render(request_id: str, resp: SimResponse) -> dict[str, Any]:
    headers = dict(resp.headers)
    out: dict[str, Any] = {"id": request_id, "status": resp.status}
    if resp.body is not None and resp.status != 204:
        headers.setdefault("Content-Type", "text/plain" if isinstance(resp.body, str) else "application/json")
        out["body"] = resp.body
    out["headers"] = headers
    return out

"""OData query options shared by every collection: $filter, $select, $top, paging, $count.

Why one module: paging links, `@odata.context` and `$select` must look the same on every endpoint
(directory and PIM alike), and a client follows `@odata.nextLink` as an opaque, whole URL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from graphsim.errors import GraphError
from graphsim.http import SimRequest
from graphsim.odata_eval import parse_datetime
from graphsim.odata_filter import CompiledFilter, compile_filter
from graphsim.schema import check_select

__all__ = [
    "CompiledFilter",
    "compile_filter",
    "context_url",
    "count_requested",
    "decode_token",
    "encode_token",
    "page",
    "parse_datetime",
    "parse_select",
    "parse_top",
    "select_fields",
    "url_with",
]


def parse_select(select: str | Iterable[str] | None) -> list[str]:
    """The property names of a $select value ([] when absent)."""
    if select is None:
        return []
    parts = select.split(",") if isinstance(select, str) else list(select)
    return [p.strip() for p in parts if p.strip()]


def select_fields(obj: dict[str, Any], select: str | Iterable[str] | None) -> dict[str, Any]:
    """Keep only the $select-ed properties (case-insensitive) and any @odata annotations."""
    wanted = {name.lower() for name in parse_select(select)}
    if not wanted:
        return obj
    return {k: v for k, v in obj.items() if k.lower() in wanted or k.startswith("@odata.type")}


def context_url(req: SimRequest, entity_set: str, select: str | None = None) -> str:
    """`{base}/$metadata#entitySet` or `#entitySet(a,b)` when $select is used (400 on an unknown name).

    Every directory list and get builds its context URL from the entity set before answering, so this
    is where $select is checked against the set's type, as Graph checks it while parsing the URL.
    """
    names = parse_select(select)
    check_select(names, entity_set)
    suffix = f"({','.join(names)})" if names else ""
    return f"{req.base_url}/$metadata#{entity_set}{suffix}"


def parse_top(req: SimRequest, default_top: int, max_top: int) -> int:
    """The page size from $top, validated the way the directory validates it."""
    raw = req.params.get("$top")
    if raw is None:
        return default_top
    try:
        top = int(raw)
    except ValueError:
        raise GraphError(400, "BadRequest", f"Invalid value '{raw}' for query parameter $top.") from None
    if top < 1 or top > max_top:
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Invalid page size specified: '{top}'. Must be between 1 and {max_top} inclusive.",
        )
    return top


def encode_token(data: dict[str, Any]) -> str:
    """An opaque, URL-safe token carrying `data`."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    """The data of a token made by encode_token, or None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def url_with(req: SimRequest, drop: Sequence[str], **extra: str) -> str:
    """The request's whole URL with some query options dropped and others added."""
    params = {k: v for k, v in req.params.items() if k not in drop}
    params.update({f"${k}" if not k.startswith("$") else k: v for k, v in extra.items()})
    query = "&".join(f"{k}={quote(str(v), safe=',')}" for k, v in params.items())
    return f"{req.base_url}{req.path}" + (f"?{query}" if query else "")


def count_requested(req: SimRequest) -> bool:
    """$count=true together with ConsistencyLevel: eventual (a bare $count=true is ignored)."""
    return (
        req.params.get("$count", "").lower() == "true"
        and req.header("consistencylevel").lower() == "eventual"
    )


def _offset(req: SimRequest) -> int:
    token = req.params.get("$skiptoken")
    if token is None:
        return 0
    data = decode_token(token)
    if not data or not isinstance(data.get("o"), int) or data["o"] < 0:
        raise GraphError(
            400,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )
    return int(data["o"])


def page(
    req: SimRequest,
    items: Sequence[dict[str, Any]],
    *,
    context_url: str,
    default_top: int = 100,
    max_top: int = 999,
) -> dict[str, Any]:
    """One page of a collection: @odata.context, @odata.count (first page), value, @odata.nextLink."""
    top = parse_top(req, default_top, max_top)
    start = _offset(req)
    body: dict[str, Any] = {"@odata.context": context_url}
    if count_requested(req) and start == 0:
        body["@odata.count"] = len(items)
    select = req.params.get("$select")
    chunk = items[start : start + top]
    body["value"] = [select_fields(obj, select) for obj in chunk] if select else list(chunk)
    if start + top < len(items):
        body["@odata.nextLink"] = url_with(req, ["$skiptoken"], skiptoken=encode_token({"o": start + top}))
    return body

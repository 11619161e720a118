"""Listing directory collections with Graph's query rules: $filter, $search, $orderby, $count, $select,
$top, paging, and the "advanced query" requirements (ConsistencyLevel: eventual + $count=true).

Why one place: the same rules (and the same error messages) apply to users, groups and service
principals; only the set of advanced-only properties differs (docs: aad-advanced-queries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphsim.errors import GraphError
from graphsim.http import SimRequest, SimResponse
from graphsim.odata import compile_filter, context_url, count_requested, page, select_fields

_ADVANCED_OPERATORS = ("ne", "not", "endswith")
Render = Callable[[dict[str, Any]], dict[str, Any]]


def advanced(req: SimRequest) -> bool:
    """ConsistencyLevel: eventual was sent (with or without $count)."""
    return req.header("consistencylevel").lower() == "eventual"


def unsupported_operator(op: str) -> GraphError:
    """Graph's 400 for an advanced-only operator without the advanced-query parameters."""
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        f"Operator '{op}' is not supported because the "
        "required parameters might be missing. Try adding $count=true query parameter and "
        "ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries "
        "for more information",
    )


def filtered(
    req: SimRequest, items: Sequence[dict[str, Any]], resource: str, advanced_props: frozenset[str]
) -> list[dict[str, Any]]:
    """Apply $search and $filter with Graph's advanced-query rules."""
    result = list(items)
    search = req.params.get("$search")
    if search is not None:
        if not advanced(req):
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only "
                "works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            )
        result = [o for o in result if _search_match(o, search)]
    text = req.params.get("$filter")
    if text:
        compiled = compile_filter(text)
        if not count_requested(req):
            for op in _ADVANCED_OPERATORS:
                if op in compiled.operators:
                    raise unsupported_operator(op)
            for prop in compiled.properties:
                if prop.split("/")[0].lower() in advanced_props:
                    raise GraphError(
                        400,
                        "Request_UnsupportedQuery",
                        "Unsupported or invalid query filter "
                        f"clause specified for property '{prop.split('/')[0]}' of resource "
                        f"'{resource}'.",
                    )
        result = [o for o in result if compiled(o)]
    return result


def _search_match(obj: dict[str, Any], search: str) -> bool:
    text = search.strip().strip('"')
    prop, _, word = text.partition(":")
    value = obj.get(prop.strip())
    return isinstance(value, str) and word.strip().lower() in value.lower()


def ordered(req: SimRequest, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply $orderby (one property, asc|desc); with $filter it needs the advanced-query parameters."""
    spec = req.params.get("$orderby")
    if not spec:
        return items
    if req.params.get("$filter") and not count_requested(req):
        raise GraphError(400, "Request_UnsupportedQuery", "Sorting not supported for current query.")
    prop, _, direction = spec.strip().partition(" ")
    return sorted(
        items,
        key=lambda o: (o.get(prop) is None, str(o.get(prop) or "").lower()),
        reverse=direction.strip().lower() == "desc",
    )


def list_response(
    req: SimRequest,
    items: Sequence[dict[str, Any]],
    *,
    entity_set: str,
    resource: str,
    advanced_props: frozenset[str],
    render: Render,
    max_top: int = 999,
) -> SimResponse:
    """A whole list endpoint: filter, order, page, then render or $select each item."""
    result = ordered(req, filtered(req, items, resource, advanced_props))
    select = req.params.get("$select")
    body = page(req, result, context_url=context_url(req, entity_set, select), max_top=max_top)
    body["value"] = [select_fields(o, select) if select else render(o) for o in body["value"]]
    return SimResponse(200, body)


def select_rendered(req: SimRequest, obj: dict[str, Any], render: Render, entity_set: str) -> dict[str, Any]:
    """One entity: $select-ed or default-rendered, with @odata.context."""
    select = req.params.get("$select")
    view = select_fields(obj, select) if select else render(obj)
    return {"@odata.context": f"{context_url(req, entity_set, select)}/$entity", **view}


def count_response(
    req: SimRequest, items: Sequence[dict[str, Any]], resource: str, advanced_props: frozenset[str]
) -> SimResponse:
    """`/{collection}/$count`: needs ConsistencyLevel: eventual; answers text/plain."""
    if not advanced(req):
        raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
    fake = _with_count(req)
    return SimResponse(200, str(len(filtered(fake, items, resource, advanced_props))))


def _with_count(req: SimRequest) -> SimRequest:
    params = {**req.params, "$count": "true"}
    return SimRequest(req.method, req.path, params, req.headers, req.body, req.path_params, req.base_url)

"""Delta queries (`servicePrincipals/delta`, `groups/delta`) over the tenant's change log.

Why tokens carry positions in the log: a round's changes are fixed when the round starts, pages of
a round are offsets into it, and a deltaLink is "everything after this position". Tokens expire
after 7 days of simulated time (docs: directory delta tokens), answered with 410 Gone and a
`Location` for a fresh full sync; tokens that are not ours get 400.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from graphsim.directory import shapes
from graphsim.errors import GraphError
from graphsim.http import SimRequest, SimResponse
from graphsim.odata import compile_filter, decode_token, encode_token, parse_select, select_fields
from graphsim.schema import check_select
from graphsim.state import Tenant

TOKEN_LIFETIME = timedelta(days=7)
PAGE_SIZE = 100
Render = Callable[[dict[str, Any]], dict[str, Any]]


def delta(req: SimRequest, tenant: Tenant, collection: str, render: Render) -> SimResponse:
    """Answer one delta request (first call, nextLink page, deltaLink round, or $deltatoken=latest)."""
    check_select(parse_select(req.params.get("$select")), collection)
    context = f"{req.base_url}/$metadata#{collection}"
    start_url = f"{req.base_url}/{collection}/delta"
    if req.params.get("$deltatoken") == "latest":
        if req.params.get("$filter"):
            # The docs name `$deltatoken=latest` and the id filter apart, never together: refused, so
            # the product cannot come to depend on it (README, "What the docs did not settle").
            raise GraphError(
                400, "Request_UnsupportedQuery", "Unsupported query: $filter with $deltatoken=latest."
            )
        state: dict[str, Any] = {"f": tenant.seq, "s": req.params.get("$select"), "i": None}
        return SimResponse(
            200,
            {
                "@odata.context": context,
                "value": [],
                "@odata.deltaLink": _link(start_url, "deltatoken", tenant, state),
            },
        )
    state = _state(req, tenant, start_url)
    items = _items(tenant, collection, state, render, minimal="return=minimal" in req.header("prefer"))
    size = _page_size(req)
    offset = int(state.get("o", 0))
    body: dict[str, Any] = {"@odata.context": context, "value": items[offset : offset + size]}
    if offset + size < len(items):
        body["@odata.nextLink"] = _link(start_url, "skiptoken", tenant, {**state, "o": offset + size})
    else:
        body["@odata.deltaLink"] = _link(
            start_url, "deltatoken", tenant, {"f": state["u"], "s": state.get("s"), "i": state.get("i")}
        )
    return SimResponse(200, body)


def _page_size(req: SimRequest) -> int:
    for part in req.header("prefer").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "odata.maxpagesize" and value.isdigit() and int(value) > 0:
            return min(int(value), 999)
    return PAGE_SIZE


def _link(start_url: str, kind: str, tenant: Tenant, state: dict[str, Any]) -> str:
    token = encode_token({**state, "e": tenant.epoch, "t": tenant.now.timestamp()})
    return f"{start_url}?${kind}={token}"


def _ids(req: SimRequest) -> list[str] | None:
    text = req.params.get("$filter")
    if not text:
        return None
    compiled = compile_filter(text)
    if compiled.properties - {"id"} or compiled.operators - {"eq"}:
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            "Unsupported query: only 'id eq' filters are supported in delta queries.",
        )
    ids = [p.strip().strip("'") for clause in text.split(" or ") for p in clause.split(" eq ")[1:]]
    if len(ids) > 50:
        raise GraphError(400, "Request_UnsupportedQuery", "A maximum of 50 ids can be filtered in delta.")
    return [i.lower() for i in ids]


def _state(req: SimRequest, tenant: Tenant, start_url: str) -> dict[str, Any]:
    for kind in ("skiptoken", "deltatoken"):
        raw = req.params.get(f"${kind}")
        if raw is None:
            continue
        data = decode_token(raw)
        if (
            not data
            or data.get("e") != tenant.epoch
            or not isinstance(data.get("f"), int)
            or data["f"] > tenant.seq
        ):
            raise GraphError(400, "Request_BadRequest", f"Badly formed or unrecognised ${kind}.")
        if tenant.now.timestamp() - float(data.get("t", 0)) > TOKEN_LIFETIME.total_seconds():
            raise GraphError(
                410,
                "syncStateNotFound",
                "The delta token has expired. Restart with a full synchronization.",
                headers={"Location": start_url},
            )
        return data if kind == "skiptoken" else {**data, "u": tenant.seq}
    return {"f": -1, "u": tenant.seq, "s": req.params.get("$select"), "i": _ids(req)}


def _items(
    tenant: Tenant, collection: str, state: dict[str, Any], render: Render, *, minimal: bool
) -> list[dict[str, Any]]:
    ids = set(state["i"]) if state.get("i") else None
    if state["f"] < 0:
        objects = tenant.collection(collection)
        return [
            _full(tenant, collection, obj, state, render)
            for obj in list(objects.values())
            if ids is None or obj["id"].lower() in ids
        ]
    return _changes(tenant, collection, state, render, ids, minimal=minimal)


def _changes(
    tenant: Tenant,
    collection: str,
    state: dict[str, Any],
    render: Render,
    ids: set[str] | None,
    *,
    minimal: bool,
) -> list[dict[str, Any]]:
    touched: dict[str, dict[str, Any]] = {}
    for change in tenant.changes[state["f"] : state["u"]]:
        if change.collection != collection or (ids is not None and change.object_id.lower() not in ids):
            continue
        entry = touched.pop(change.object_id, {"created": False, "props": set(), "add": [], "remove": []})
        entry["created"] |= change.kind == "created"
        entry["props"] |= change.props
        if change.member_added:
            _move(entry["remove"], entry["add"], change.member_added)
        if change.member_removed:
            _move(entry["add"], entry["remove"], change.member_removed)
        touched[change.object_id] = entry  # re-insert: ordered by most recent change
    objects = tenant.collection(collection)
    return [
        item
        for oid, entry in touched.items()
        if (item := _change_item(tenant, collection, objects.get(oid), oid, entry, state, render, minimal))
        is not None
    ]


def _move(source: list[str], target: list[str], principal_id: str) -> None:
    """Net membership change within a round: the last add or remove of a principal wins."""
    if principal_id in source:
        source.remove(principal_id)
    if principal_id not in target:
        target.append(principal_id)


def _change_item(
    tenant: Tenant,
    collection: str,
    obj: dict[str, Any] | None,
    oid: str,
    entry: dict[str, Any],
    state: dict[str, Any],
    render: Render,
    minimal: bool,
) -> dict[str, Any] | None:
    if obj is None:
        reason = "changed" if oid in tenant.deleted else "deleted"
        return {"id": oid, "@removed": {"reason": reason}}
    if entry["created"] or not minimal:
        item = _full(tenant, collection, obj, state, render, members=None if entry["created"] else [])
    else:
        item = {"id": oid, **{k: obj.get(k) for k in entry["props"] if _selected(state, k)}}
    if collection == "groups" and _selected(state, "members") and not entry["created"]:
        item["members@delta"] = _member_refs(tenant, entry["add"]) + [
            {**ref, "@removed": {"reason": "deleted"}} for ref in _member_refs(tenant, entry["remove"])
        ]
    if (
        not entry["created"]
        and set(item) - {"id", "members@delta"} == set()
        and not item.get("members@delta")
    ):
        return None
    return item


def _selected(state: dict[str, Any], prop: str) -> bool:
    names = [n.lower() for n in parse_select(state.get("s"))]
    return not names or prop.lower() in names


def _full(
    tenant: Tenant,
    collection: str,
    obj: dict[str, Any],
    state: dict[str, Any],
    render: Render,
    members: list[str] | None = None,
) -> dict[str, Any]:
    item = render(obj)
    select = state.get("s")
    if select:
        item = {"id": obj["id"], **select_fields(item, select)}
    if collection == "groups" and _selected(state, "members"):
        current = list(tenant.members.get(obj["id"], {})) if members is None else members
        item["members@delta"] = _member_refs(tenant, current)
    return item


def _member_refs(tenant: Tenant, ids: list[str]) -> list[dict[str, Any]]:
    refs = []
    for pid in ids:
        found = tenant.directory_object(pid)
        kind = found[0] if found else "users"
        refs.append({"@odata.type": shapes.ODATA_TYPES[kind], "id": pid})
    return refs

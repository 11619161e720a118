"""URL table for users and groups: parse the request, call the backend, shape the response. No rules."""

from __future__ import annotations

from typing import Any

from graphsim.directory import delta, listing, shapes
from graphsim.directory.backend import DirectoryBackend
from graphsim.directory.validate import parse_reference, require_object
from graphsim.errors import GraphError
from graphsim.http import Route, SimRequest, SimResponse
from graphsim.odata import context_url, page
from graphsim.state import Tenant

USER_ADVANCED = frozenset(
    {"companyname", "employeeid", "officelocation", "createddatetime", "lastpasswordchangedatetime"}
)
GROUP_ADVANCED = frozenset({"description", "createddatetime"})


def _group_view(group: dict[str, Any]) -> dict[str, Any]:
    return shapes.hide(group, shapes.GROUP_HIDDEN)


def user_routes(directory: DirectoryBackend) -> list[Route]:
    """GET /users, GET /users/{id | userPrincipalName}."""

    def list_users(req: SimRequest) -> SimResponse:
        return listing.list_response(
            req,
            directory.list_users(),
            entity_set="users",
            resource="User",
            advanced_props=USER_ADVANCED,
            render=shapes.user_view,
        )

    def get_user(req: SimRequest) -> SimResponse:
        user = directory.get_user(req.path_params["id"])
        return SimResponse(200, listing.select_rendered(req, user, shapes.user_view, "users"))

    def count_users(req: SimRequest) -> SimResponse:
        return listing.count_response(req, directory.list_users(), "User", USER_ADVANCED)

    return [
        Route("GET", "/users", list_users, "users.list"),
        Route("GET", "/users/$count", count_users, "users.count"),
        Route("GET", "/users/{id}", get_user, "users.get"),
    ]


def group_routes(directory: DirectoryBackend, tenant: Tenant) -> list[Route]:
    """Groups: CRUD, uniqueName alternate key and upsert, members, owners, delta."""

    def created(req: SimRequest, group: dict[str, Any]) -> SimResponse:
        return SimResponse(
            201, {"@odata.context": f"{req.base_url}/$metadata#groups/$entity", **_group_view(group)}
        )

    def list_groups(req: SimRequest) -> SimResponse:
        return listing.list_response(
            req,
            directory.list_groups(),
            entity_set="groups",
            resource="Group",
            advanced_props=GROUP_ADVANCED,
            render=_group_view,
        )

    def count_groups(req: SimRequest) -> SimResponse:
        return listing.count_response(req, directory.list_groups(), "Group", GROUP_ADVANCED)

    def create(req: SimRequest) -> SimResponse:
        return created(req, directory.create_group(req.body))

    def get(req: SimRequest) -> SimResponse:
        group = directory.group(req.path_params["id"])
        return SimResponse(200, listing.select_rendered(req, group, _group_view, "groups"))

    def get_by_unique_name(req: SimRequest) -> SimResponse:
        key = req.path_params["key"]
        group = directory.group_by_unique_name(key)
        if group is None:
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of "
                "its queried reference-property objects are not present.",
            )
        return SimResponse(200, listing.select_rendered(req, group, _group_view, "groups"))

    def upsert(req: SimRequest) -> SimResponse:
        create_if_missing = "create-if-missing" in req.header("prefer").lower()
        group, was_created = directory.upsert_group(req.path_params["key"], req.body, create_if_missing)
        return created(req, group) if was_created else SimResponse(204)

    def update(req: SimRequest) -> SimResponse:
        directory.update_group(req.path_params["id"], req.body)
        return SimResponse(204)

    def delete(req: SimRequest) -> SimResponse:
        directory.delete_group(req.path_params["id"])
        return SimResponse(204)

    def group_delta(req: SimRequest) -> SimResponse:
        return delta.delta(req, tenant, "groups", _group_view)

    routes = [
        Route("GET", "/groups", list_groups, "groups.list"),
        Route("POST", "/groups", create, "groups.create"),
        Route("GET", "/groups/$count", count_groups, "groups.count"),
        Route("GET", "/groups/delta", group_delta, "groups.delta"),
        Route("GET", "/groups/delta()", group_delta, "groups.delta"),
        Route("GET", "/groups(uniqueName='{key}')", get_by_unique_name, "groups.getByUniqueName"),
        Route("PATCH", "/groups(uniqueName='{key}')", upsert, "groups.upsert"),
        Route("GET", "/groups/{id}", get, "groups.get"),
        Route("PATCH", "/groups/{id}", update, "groups.update"),
        Route("DELETE", "/groups/{id}", delete, "groups.delete"),
    ]
    return routes + _link_routes(directory, "members") + _link_routes(directory, "owners")


def _link_routes(directory: DirectoryBackend, relation: str) -> list[Route]:
    """members / owners: list, POST $ref, DELETE {id}/$ref."""

    def list_links(req: SimRequest) -> SimResponse:
        items = directory.list_links(relation, req.path_params["id"])
        items = listing.filtered(req, items, "DirectoryObject", frozenset())
        body = page(req, items, context_url=context_url(req, "directoryObjects", req.params.get("$select")))
        return SimResponse(200, body)

    def list_cast(req: SimRequest) -> SimResponse:
        # OData cast (group-list-members.md example 4: `.../members/microsoft.graph.user`); the context
        # names the cast's entity set, e.g. `$metadata#servicePrincipals`.
        cast = req.path_params["cast"]
        items = directory.list_links(relation, req.path_params["id"], cast)
        items = listing.filtered(req, items, "DirectoryObject", frozenset())
        entity_set = shapes.cast_collection(cast)
        body = page(req, items, context_url=context_url(req, entity_set, req.params.get("$select")))
        return SimResponse(200, body)

    def add(req: SimRequest) -> SimResponse:
        body = require_object(req.body)
        if set(body) - {"@odata.id"}:
            raise GraphError(400, "BadRequest", "The request body must contain only '@odata.id'.")
        _, principal_id = parse_reference(body.get("@odata.id"))
        directory.add_link(relation, req.path_params["id"], principal_id)
        return SimResponse(204)

    def remove(req: SimRequest) -> SimResponse:
        directory.remove_link(relation, req.path_params["id"], req.path_params["ref"])
        return SimResponse(204)

    return [
        Route("GET", f"/groups/{{id}}/{relation}", list_links, f"groups.{relation}.list"),
        Route("GET", f"/groups/{{id}}/{relation}/{{cast}}", list_cast, f"groups.{relation}.cast"),
        Route("POST", f"/groups/{{id}}/{relation}/$ref", add, f"groups.{relation}.add"),
        Route("DELETE", f"/groups/{{id}}/{relation}/{{ref}}/$ref", remove, f"groups.{relation}.remove"),
    ]

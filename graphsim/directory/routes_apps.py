"""URL table for service principals and app role assignments: parse, call the backend, shape. No rules."""

from __future__ import annotations

from typing import Any

from graphsim.directory import delta, listing, shapes
from graphsim.directory.apps import AppsBackend
from graphsim.http import Handler, Route, SimRequest, SimResponse
from graphsim.odata import context_url, page
from graphsim.state import Tenant

# aad-advanced-queries, servicePrincipal table: filterable only as advanced queries
SP_ADVANCED = frozenset(
    {
        "approleassignmentrequired",
        "appownerorganizationid",
        "description",
        "notes",
        "homepage",
        "verifiedpublisher",
        "customsecurityattributes",
    }
)


def _sp_view(sp: dict[str, Any]) -> dict[str, Any]:
    return shapes.sp_view(sp)


def apps_routes(apps: AppsBackend, tenant: Tenant) -> list[Route]:
    """Service principals: list, $count, get (id or appId), PATCH, DELETE, delta, appRoleAssignedTo."""

    def list_sps(req: SimRequest) -> SimResponse:
        return listing.list_response(
            req,
            apps.list_service_principals(),
            entity_set="servicePrincipals",
            resource="ServicePrincipal",
            advanced_props=SP_ADVANCED,
            render=_sp_view,
        )

    def count_sps(req: SimRequest) -> SimResponse:
        return listing.count_response(req, apps.list_service_principals(), "ServicePrincipal", SP_ADVANCED)

    def get(req: SimRequest) -> SimResponse:
        sp = apps.service_principal(req.path_params["id"])
        return SimResponse(200, listing.select_rendered(req, sp, _sp_view, "servicePrincipals"))

    def get_by_app_id(req: SimRequest) -> SimResponse:
        sp = apps.by_app_id(req.path_params["appId"])
        return SimResponse(200, listing.select_rendered(req, sp, _sp_view, "servicePrincipals"))

    def update(req: SimRequest) -> SimResponse:
        apps.update_service_principal(req.path_params["id"], req.body)
        return SimResponse(204)

    def delete(req: SimRequest) -> SimResponse:
        apps.delete_service_principal(req.path_params["id"])
        return SimResponse(204)

    def sp_delta(req: SimRequest) -> SimResponse:
        return delta.delta(req, tenant, "servicePrincipals", _sp_view)

    routes = [
        Route("GET", "/servicePrincipals", list_sps, "servicePrincipals.list"),
        Route("GET", "/servicePrincipals/$count", count_sps, "servicePrincipals.count"),
        Route("GET", "/servicePrincipals/delta", sp_delta, "servicePrincipals.delta"),
        Route("GET", "/servicePrincipals/delta()", sp_delta, "servicePrincipals.delta"),
        Route("GET", "/servicePrincipals(appId='{appId}')", get_by_app_id, "servicePrincipals.getByAppId"),
        Route("GET", "/servicePrincipals/{id}", get, "servicePrincipals.get"),
        Route("PATCH", "/servicePrincipals/{id}", update, "servicePrincipals.update"),
        Route("DELETE", "/servicePrincipals/{id}", delete, "servicePrincipals.delete"),
    ]
    return (
        routes
        + _assignment_routes(apps, "/servicePrincipals/{id}", _by_id)
        + _assignment_routes(apps, "/servicePrincipals(appId='{appId}')", _by_app_id(apps))
    )


def _by_id(req: SimRequest) -> str:
    return req.path_params["id"]


def _by_app_id(apps: AppsBackend) -> Any:
    def resolve(req: SimRequest) -> str:
        return str(apps.by_app_id(req.path_params["appId"])["id"])

    return resolve


def _assignment_routes(apps: AppsBackend, prefix: str, resolve: Any) -> list[Route]:
    """appRoleAssignedTo under a service principal addressed by id or by appId."""

    def list_assigned(req: SimRequest) -> SimResponse:
        sp_id = resolve(req)
        items = listing.filtered(req, apps.assignments_to(sp_id), "AppRoleAssignment", frozenset())
        ctx = context_url(req, f"servicePrincipals('{sp_id}')/appRoleAssignedTo", req.params.get("$select"))
        return SimResponse(200, page(req, items, context_url=ctx))

    def assign(req: SimRequest) -> SimResponse:
        sp_id = resolve(req)
        assignment = apps.assign(sp_id, req.body)
        ctx = f"{req.base_url}/$metadata#servicePrincipals('{sp_id}')/appRoleAssignedTo/$entity"
        return SimResponse(201, {"@odata.context": ctx, **assignment})

    def unassign(req: SimRequest) -> SimResponse:
        apps.unassign(resolve(req), req.path_params["assignmentId"])
        return SimResponse(204)

    handlers: list[tuple[str, str, Handler]] = [
        ("GET", "/appRoleAssignedTo", list_assigned),
        ("POST", "/appRoleAssignedTo", assign),
        ("DELETE", "/appRoleAssignedTo/{assignmentId}", unassign),
    ]
    return [
        Route(method, prefix + suffix, handler, f"servicePrincipals.appRoleAssignedTo.{method.lower()}")
        for method, suffix, handler in handlers
    ]

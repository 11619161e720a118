"""URL table for `auditLogs/directoryAudits`: list (newest first, $filter, $top, paging) and get."""

from __future__ import annotations

from graphsim.directory import audit
from graphsim.errors import GraphError
from graphsim.http import Route, SimRequest, SimResponse
from graphsim.odata import CompiledFilter, compile_filter, context_url, page
from graphsim.state import Tenant

# directoryaudit.md (v1.0 and beta): the properties whose description says "Supports `$filter`", and
# the operators the list page names (eq, ge, le, startswith; `any` reaches into targetResources).
# `category`, `result` and `operationType` are not documented as filterable: refused (README).
_FILTERABLE = {
    "activitydatetime",
    "activitydisplayname",
    "correlationid",
    "id",
    "loggedbyservice",
    "targetresources",
    "initiatedby/user/id",
    "initiatedby/user/displayname",
    "initiatedby/user/userprincipalname",
    "initiatedby/app/appid",
    "initiatedby/app/displayname",
}
_OPERATORS = {"eq", "ge", "le", "startswith", "any"}


def _check(text: str) -> CompiledFilter:
    compiled = compile_filter(text)
    for prop in sorted(compiled.properties):
        if prop.lower() not in _FILTERABLE:
            raise GraphError(
                400, "BadRequest", f"Invalid filter clause: property '{prop}' is not supported in the filter."
            )
    for op in sorted(compiled.operators - _OPERATORS):
        raise GraphError(400, "BadRequest", f"Invalid filter clause: operator '{op}' is not supported.")
    return compiled


def audit_routes(tenant: Tenant) -> list[Route]:
    """GET /auditLogs/directoryAudits and /auditLogs/directoryAudits/{id}."""

    def list_audits(req: SimRequest) -> SimResponse:
        items = audit.newest_first(tenant)
        text = req.params.get("$filter")
        if text:
            compiled = _check(text)
            items = [e for e in items if compiled(e)]
        ctx = context_url(req, "auditLogs/directoryAudits", req.params.get("$select"))
        return SimResponse(200, page(req, items, context_url=ctx, default_top=1000, max_top=1000))

    def get_audit(req: SimRequest) -> SimResponse:
        for entry in tenant.audits:
            if entry["id"] == req.path_params["id"]:
                ctx = f"{req.base_url}/$metadata#auditLogs/directoryAudits/$entity"
                return SimResponse(200, {"@odata.context": ctx, **entry})
        raise GraphError(
            404, "Request_ResourceNotFound", f"Resource '{req.path_params['id']}' does not exist."
        )

    return [
        Route("GET", "/auditLogs/directoryAudits", list_audits, "auditLogs.directoryAudits.list"),
        Route("GET", "/auditLogs/directoryAudits/{id}", get_audit, "auditLogs.directoryAudits.get"),
    ]

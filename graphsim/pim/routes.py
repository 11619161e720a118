"""URL table and (de)serialising for PIM for Groups and role management policies: no business logic.

Simulator headers (a real delegated token would carry these claims; graphsim authorizes on `roles`):
  x-graphsim-user: object id of the caller (createdBy, audit initiatedBy, approver)
  x-graphsim-mfa: true    the caller has completed MFA (needed when MultiFactorAuthentication is on)
  x-graphsim-acrs: c1,c2  authentication context claims the caller satisfies
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphsim.http import Route, SimRequest, SimResponse
from graphsim.pim.enforcement import Caller
from graphsim.pim.queries import expand_names, param, select
from graphsim.pim.values import bad_request, enum_value, optional_str, reject_unknown

if TYPE_CHECKING:
    from graphsim.pim.backend import PimBackend

PIM = "/identityGovernance/privilegedAccess/group"
_SETS = {
    "eligibility": ("eligibilityScheduleRequests", "eligibilitySchedules", "eligibilityScheduleInstances"),
    "assignment": ("assignmentScheduleRequests", "assignmentSchedules", "assignmentScheduleInstances"),
}


def caller_of(req: SimRequest) -> Caller:
    """The caller identity and claims the simulator headers describe."""
    acrs = frozenset(a.strip() for a in req.header("x-graphsim-acrs").split(",") if a.strip())
    return Caller(
        user_id=req.header("x-graphsim-user") or None,
        mfa=req.header("x-graphsim-mfa").lower() == "true",
        acrs=acrs,
    )


def _context(req: SimRequest, fragment: str) -> str:
    return f"{req.base_url}/$metadata#{fragment}"


def _entity(req: SimRequest, fragment: str, obj: dict[str, Any], status: int = 200) -> SimResponse:
    return SimResponse(status, {"@odata.context": _context(req, fragment + "/$entity"), **obj})


def _collection(req: SimRequest, fragment: str, items: list[dict[str, Any]]) -> SimResponse:
    items, suffix = select(items, param(req.params, "select"), fragment)
    return SimResponse(200, {"@odata.context": _context(req, fragment + suffix), "value": items})


def _pim_handlers(b: PimBackend, kind: str) -> list[Route]:
    requests_set, schedules_set, instances_set = _SETS[kind]
    base = f"{PIM}/{requests_set}"

    def expand(items: list[dict[str, Any]], req: SimRequest) -> list[dict[str, Any]]:
        names = expand_names(param(req.params, "expand"))
        for item in items:
            if "principal" in names:
                item["principal"] = b.port.get_directory_object(item["principalId"])
            if "group" in names:
                item["group"] = b.port.get_group(item["groupId"])
        return items

    def post(req: SimRequest) -> SimResponse:
        record = b.create_request(kind, req.body, caller_of(req))
        return _entity(req, f"identityGovernance/privilegedAccess/group/{requests_set}", record, 201)

    def list_(
        getter: Callable[[str, str | None], list[dict[str, Any]]], name: str
    ) -> Callable[..., SimResponse]:
        def handler(req: SimRequest) -> SimResponse:
            items = expand(getter(kind, param(req.params, "filter")), req)
            return _collection(req, f"identityGovernance/privilegedAccess/group/{name}", items)

        return handler

    def get_(getter: Callable[[str, str], dict[str, Any]], name: str) -> Callable[..., SimResponse]:
        def handler(req: SimRequest) -> SimResponse:
            item = expand([getter(kind, req.path_params["id"])], req)[0]
            return _entity(req, f"identityGovernance/privilegedAccess/group/{name}", item)

        return handler

    def cancel(req: SimRequest) -> SimResponse:
        b.cancel_request(kind, req.path_params["id"], caller_of(req))
        return SimResponse(204)

    return [
        Route("POST", base, post),
        Route("GET", base, list_(b.list_requests, requests_set)),
        Route("GET", base + "/{id}", get_(b.get_request, requests_set)),
        Route("POST", base + "/{id}/cancel", cancel),
        Route("GET", f"{PIM}/{schedules_set}", list_(b.list_schedules, schedules_set)),
        Route("GET", f"{PIM}/{schedules_set}/{{id}}", get_(b.get_schedule, schedules_set)),
        Route("GET", f"{PIM}/{instances_set}", list_(b.list_instances, instances_set)),
        Route("GET", f"{PIM}/{instances_set}/{{id}}", get_(b.get_instance, instances_set)),
    ]


def _approval_handlers(b: PimBackend) -> tuple[list[Route], list[Route]]:
    def get(req: SimRequest) -> SimResponse:
        approval = b.get_approval(req.path_params["id"])
        return _entity(req, "identityGovernance/privilegedAccess/group/assignmentApprovals", approval)

    def review(req: SimRequest) -> SimResponse:
        body = req.body if isinstance(req.body, dict) else None
        if body is None:
            raise bad_request("The request body must be a JSON object.")
        reject_unknown(body, {"reviewResult", "justification", "id"}, "microsoft.graph.approvalStage")
        result = enum_value(body.get("reviewResult"), ("Approve", "Deny"), "reviewResult")
        b.decide_approval(
            req.path_params["id"],
            result == "Approve",
            caller_of(req).user_id,
            optional_str(body, "justification"),
        )
        return SimResponse(204)

    def sim_decide(req: SimRequest) -> SimResponse:
        body = req.body if isinstance(req.body, dict) else {}
        approve = body.get("approve", True)
        if not isinstance(approve, bool):
            raise bad_request("'approve' must be a boolean.")
        record = b.decide_approval(
            req.path_params["id"],
            approve,
            optional_str(body, "reviewer"),
            optional_str(body, "justification"),
        )
        return SimResponse(200, record)

    return [
        Route("GET", f"{PIM}/assignmentApprovals/{{id}}", get),
        Route("PATCH", f"{PIM}/assignmentApprovals/{{id}}/stages/{{stage}}", review),
    ], [Route("POST", "/_sim/pim/approvals/{id}", sim_decide, name="_sim.pim.approvals")]


def _policy_handlers(b: PimBackend) -> list[Route]:
    policies = "policies/roleManagementPolicies"

    def shaped(policy: dict[str, Any], with_rules: bool) -> dict[str, Any]:
        return policy if with_rules else {k: v for k, v in policy.items() if k != "rules"}

    def list_assignments(req: SimRequest) -> SimResponse:
        items = b.list_policy_assignments(param(req.params, "filter"))
        expanded = expand_names(param(req.params, "expand"))
        suffix = ""
        if "policy" in expanded:
            with_rules = "rules" in expand_names(expanded["policy"].removeprefix("$expand="))
            suffix = "(policy(rules()))" if with_rules else "(policy())"
            for item in items:
                item["policy"] = shaped(b.get_policy(item["policyId"]), with_rules)
        return _collection(req, "policies/roleManagementPolicyAssignments" + suffix, items)

    def get_assignment(req: SimRequest) -> SimResponse:
        item = b.get_policy_assignment(req.path_params["id"])
        if "policy" in expand_names(param(req.params, "expand")):
            item["policy"] = shaped(b.get_policy(item["policyId"]), False)
        return _entity(req, "policies/roleManagementPolicyAssignments", item)

    def list_policies(req: SimRequest) -> SimResponse:
        with_rules = "rules" in expand_names(param(req.params, "expand"))
        items = [shaped(p, with_rules) for p in b.list_policies(param(req.params, "filter"))]
        return _collection(req, policies + ("(rules())" if with_rules else ""), items)

    def get_policy(req: SimRequest) -> SimResponse:
        with_rules = "rules" in expand_names(param(req.params, "expand"))
        policy = shaped(b.get_policy(req.path_params["id"]), with_rules)
        return _entity(req, policies + ("(rules())" if with_rules else ""), policy)

    def patch_policy(req: SimRequest) -> SimResponse:
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("rules"), list):
            raise bad_request("The request body must be an object with a 'rules' array.")
        reject_unknown(body, {"rules", "id"}, "microsoft.graph.unifiedRoleManagementPolicy")
        if not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in body["rules"]):
            raise bad_request("Each rule must be an object with an 'id'.")
        pid = b.update_rules(req.path_params["id"], {r["id"]: r for r in body["rules"]}, caller_of(req))
        return _entity(req, policies, shaped(b.get_policy(pid), False))

    def list_rules(req: SimRequest) -> SimResponse:
        pid = req.path_params["id"]
        return _collection(req, f"{policies}('{pid}')/rules", b.get_policy(pid)["rules"])

    def get_rule(req: SimRequest) -> SimResponse:
        pid = req.path_params["id"]
        return _entity(req, f"{policies}('{pid}')/rules", b.get_rule(pid, req.path_params["ruleId"]))

    def patch_rule(req: SimRequest) -> SimResponse:
        rule_id = req.path_params["ruleId"]
        b.get_rule(req.path_params["id"], rule_id)
        pid = b.update_rules(req.path_params["id"], {rule_id: req.body}, caller_of(req))
        return _entity(req, f"{policies}('{pid}')/rules", b.get_rule(pid, rule_id))

    return [
        Route("GET", "/policies/roleManagementPolicyAssignments", list_assignments),
        Route("GET", "/policies/roleManagementPolicyAssignments/{id}", get_assignment),
        Route("GET", "/policies/roleManagementPolicies", list_policies),
        Route("GET", "/policies/roleManagementPolicies/{id}", get_policy),
        Route("PATCH", "/policies/roleManagementPolicies/{id}", patch_policy),
        Route("GET", "/policies/roleManagementPolicies/{id}/rules", list_rules),
        Route("GET", "/policies/roleManagementPolicies/{id}/rules/{ruleId}", get_rule),
        Route("PATCH", "/policies/roleManagementPolicies/{id}/rules/{ruleId}", patch_rule),
    ]


def build_routes(backend: PimBackend) -> list[Route]:
    """Every Graph route this backend serves (mounted under /v1.0)."""
    return (
        _pim_handlers(backend, "eligibility")
        + _pim_handlers(backend, "assignment")
        + _approval_handlers(backend)[0]
        + _policy_handlers(backend)
    )


def build_control_routes(backend: PimBackend) -> list[Route]:
    """Control-plane routes (mounted under /_sim, no auth): approve or deny a pending activation."""
    return _approval_handlers(backend)[1]

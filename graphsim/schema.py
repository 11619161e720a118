"""Which property names each served entity type has, so that `$select=nope` fails as Graph fails it.

Graph parses `$select` against its EDM model and answers an unknown name with 400
`Request_BadRequest` "Could not find a property named 'nope' on type 'microsoft.graph.user'.",
whether or not the stored object happens to carry that property. graphsim stores sparse objects, so
the model cannot come from the data: it comes from msgraph-sdk's generated models (generated from
Graph v1.0's own `$metadata`), imported lazily per type and cached. Navigation properties are
selectable names too, as in Graph.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import lru_cache

from graphsim.errors import GraphError

# the last segment of an @odata.context entity set (or navigation) -> (type named in errors, model types)
_SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "users": ("user", ("user",)),
    "groups": ("group", ("group",)),
    "servicePrincipals": ("servicePrincipal", ("servicePrincipal",)),
    "directoryObjects": (
        "directoryObject",
        ("directoryObject", "user", "group", "servicePrincipal", "device", "orgContact", "application"),
    ),
    "appRoleAssignedTo": ("appRoleAssignment", ("appRoleAssignment",)),
    "directoryAudits": ("directoryAudit", ("directoryAudit",)),
    "eligibilityScheduleRequests": (
        "privilegedAccessGroupEligibilityScheduleRequest",
        ("privilegedAccessGroupEligibilityScheduleRequest",),
    ),
    "assignmentScheduleRequests": (
        "privilegedAccessGroupAssignmentScheduleRequest",
        ("privilegedAccessGroupAssignmentScheduleRequest",),
    ),
    "eligibilitySchedules": (
        "privilegedAccessGroupEligibilitySchedule",
        ("privilegedAccessGroupEligibilitySchedule",),
    ),
    "assignmentSchedules": (
        "privilegedAccessGroupAssignmentSchedule",
        ("privilegedAccessGroupAssignmentSchedule",),
    ),
    "eligibilityScheduleInstances": (
        "privilegedAccessGroupEligibilityScheduleInstance",
        ("privilegedAccessGroupEligibilityScheduleInstance",),
    ),
    "assignmentScheduleInstances": (
        "privilegedAccessGroupAssignmentScheduleInstance",
        ("privilegedAccessGroupAssignmentScheduleInstance",),
    ),
    "roleManagementPolicies": ("unifiedRoleManagementPolicy", ("unifiedRoleManagementPolicy",)),
    "roleManagementPolicyAssignments": (
        "unifiedRoleManagementPolicyAssignment",
        ("unifiedRoleManagementPolicyAssignment",),
    ),
    "rules": (
        "unifiedRoleManagementPolicyRule",
        tuple(
            f"unifiedRoleManagementPolicy{kind}Rule"
            for kind in ("", "Expiration", "Enablement", "Approval", "AuthenticationContext", "Notification")
        ),
    ),
}


def check_select(names: Iterable[str], entity_set: str) -> None:
    """Raise Graph's 400 for the first $select name the entity set's type does not have."""
    entry = _SETS.get(_last(entity_set))
    if entry is None:
        return
    allowed = properties(entry[1])
    for name in names:
        if name.lower() not in allowed and name != "*":
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{entry[0]}'.",
            )


@lru_cache(maxsize=64)
def properties(types: tuple[str, ...]) -> frozenset[str]:
    """The lower-cased JSON property names of these msgraph types (inherited ones included)."""
    names: set[str] = set()
    for type_name in types:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", type_name).lower()
        module = importlib.import_module(f"msgraph.generated.models.{snake}")
        model = getattr(module, type_name[0].upper() + type_name[1:])
        names |= {n.lower() for n in model().get_field_deserializers() if not n.startswith("@")}
    return frozenset(names)


def _last(entity_set: str) -> str:
    """'servicePrincipals(\'x\')/appRoleAssignedTo' -> 'appRoleAssignedTo'; 'a(rules())' -> 'a'."""
    return entity_set.rstrip("/").split("/")[-1].partition("(")[0]

"""The narrowed query texts behind the change signals (pure: no I/O), with the docs they rest on.

Directory audit (directoryaudit-list.md, directoryaudit.md): Graph throttles the identity-and-access
audit API at about 5 requests per 10 s per app and tenant, so the signal reads only the entries that
can change a managed app's protection, in one query. Filterable, per the resource page:
`activityDateTime` (eq, ge, le), `activityDisplayName` (eq, startswith), `loggedByService` (eq),
`id`, `correlationId`, `initiatedBy/...`, `targetResources/...`. `category` is NOT documented as
filterable, so it is not used. `or` between clauses is not mentioned either way; it is what public
tools send to this API (`activityDateTime ge .. and (activityDisplayName eq 'A' or ...)`), and
graphsim accepts it. The list page names no `$top` maximum, so the default page size is kept.
`$select` is not in the page's parameter list, but Graph's own answer in its example 2 advises
`$select` on this very endpoint (`@microsoft.graph.tips`); the select holds what
`mapping.audit_signal` reads.

Which entries matter (MicrosoftDocs/entra-docs reference-audit-activities.md), and why:
- every PIM entry (`loggedByService eq 'PIM'`): eligibilities and active assignments added,
  changed or removed around PIM Warden's tickets, role settings (policy rules) changed, onboarding;
  activations come along too (reading more, never less);
- Core Directory, GroupManagement: members and owners of a managed group added or removed (a bypass
  member; an owner, which the group delta does not track without `$select=owners`), the group
  updated, deleted, hard-deleted or restored;
- Core Directory, app role assignments (ApplicationManagement, GroupManagement, UserManagement; the
  names vary: "Add app role assignment grant to user", "Remove app role assignment from user", "... to
  group", "... to service principal"): both prefixes by `startswith`, so a variant is not missed;
- Core Directory, service principal updated, removed, hard-deleted or restored (the service principal
  delta shows these too; the audit entry names the initiator).
Left out on purpose: "Add group" (a second group with our uniqueName names a group no record holds,
so no app can be mapped from it; the daily full audit finds the duplicate), application object
changes (they name the application, not its service principal; the service principal delta shows
the effect), custom security attributes (logged in customSecurityAttributeAudits, not here).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.domain.times import format_graph_time
from shared.graph.base import odata_string as quoted

AUDIT_SELECT = ["id", "activityDisplayName", "activityDateTime", "targetResources", "initiatedBy"]
# Entra writes "PIM" (reference-audit-activities.md, and what the compliance collector reads); the
# directoryAudit resource page gives "Privileged Identity Management" as an example value: both are read.
AUDIT_SERVICES = ("PIM", "Privileged Identity Management")
AUDIT_ACTIVITIES = (
    "Add member to group",
    "Remove member from group",
    "Add owner to group",
    "Remove owner from group",
    "Update group",
    "Delete group",
    "Hard Delete group",
    "Restore group",
    "Update service principal",
    "Remove service principal",
    "Hard delete service principal",
    "Restore service principal",
)
AUDIT_PREFIXES = ("Add app role assignment", "Remove app role assignment")

# group-delta.md: "There is a limit of 50 filtered objects."
DELTA_FILTER_MAX_IDS = 50


def audit_filter(since: datetime, until: datetime) -> str:
    """The directory audit `$filter`: the time window and the activities that matter."""
    kinds = [f"loggedByService eq {quoted(s)}" for s in AUDIT_SERVICES]
    kinds += [f"activityDisplayName eq {quoted(a)}" for a in AUDIT_ACTIVITIES]
    kinds += [f"startswith(activityDisplayName,{quoted(p)})" for p in AUDIT_PREFIXES]
    return (
        f"activityDateTime ge {format_graph_time(since)} and activityDateTime le {format_graph_time(until)}"
        f" and ({' or '.join(kinds)})"
    )


def group_id_filter(group_ids: Sequence[str]) -> str:
    """`id eq '..' or id eq '..'` over at most 50 group ids (groups/delta's only filter)."""
    if not group_ids or len(group_ids) > DELTA_FILTER_MAX_IDS:
        raise ValueError(f"groups/delta filters 1 to {DELTA_FILTER_MAX_IDS} ids, not {len(group_ids)}")
    return " or ".join(f"id eq {quoted(g)}" for g in group_ids)


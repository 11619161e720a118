"""PIM Warden's own audit rows -> compliance events, so our repairs sit in the same timeline as PIM's.

Only what PIM does not record itself becomes an event: policy drift repaired, direct app role
assignments removed, members that bypassed PIM removed. Eligibilities PIM Warden grants or removes
are PIM schedule requests and are recorded from there (with `cause` pim_warden), never twice.
Only successful actions are events: a failed repair changed nothing. Action names are matched
loosely (case and punctuation ignored, imperative or past tense) because they are the engine's
names, e.g. `PolicyRuleCorrected` or `RemoveDirectAssignment`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from shared.compliance import graph_values as gv
from shared.compliance.events import Cause, ComplianceEvent, EventKind, Source, format_time
from shared.compliance.mapping import MappingContext

_ACTIONS: Final[Mapping[str, EventKind]] = {
    **dict.fromkeys(
        ("policyrulecorrected", "policyrulerepaired", "policydriftrepaired", "correctpolicyrule",
         "updatepolicyrule", "repairpolicyrule"), EventKind.POLICY_DRIFT_REPAIRED),
    **dict.fromkeys(
        ("directassignmentremoved", "removedirectassignment", "approleassignmentremoved",
         "removeapproleassignment"), EventKind.DIRECT_ASSIGNMENT_REMOVED),
    **dict.fromkeys(
        ("bypassmemberremoved", "removebypassmember", "memberremoved", "removemember",
         "groupmemberremoved", "removegroupmember"), EventKind.BYPASS_MEMBER_REMOVED),
}
_SUCCESS: Final = frozenset({"succeeded", "success", "ok", "done", "applied", "already done"})
_DETAIL_LIMIT: Final = 1000


def warden_kind(action: object) -> EventKind | None:
    """The event kind for an engine action name, or None when it is not a compliance event."""
    return _ACTIONS.get(re.sub(r"[^a-z]", "", str(action).lower()))


def map_warden_audit(row: object, ctx: MappingContext) -> ComplianceEvent | None:
    """One audit row (keys when, cause, app_id, target, action, before, after, outcome) or None."""
    data = _as_mapping(row)
    kind, when = warden_kind(data.get("action")), gv.parse_time(data.get("when"))
    outcome = str(data.get("outcome") or "").lower()
    if kind is None or when is None or outcome not in _SUCCESS:
        return None
    target = gv.text(data, "target")
    is_rule = kind is EventKind.POLICY_DRIFT_REPAIRED
    return ComplianceEvent(
        time=when, event=kind,
        app_id=gv.text(data, "app_id") or ctx.app.app_id,
        app_name=gv.text(data, "app_name") or ctx.app.app_name,
        group_id=gv.text(data, "group_id") or ctx.group_id or "",
        user_id=None if is_rule else target,
        user_upn=None if is_rule else ctx.upn(target),
        source=Source.WARDEN_AUDIT, source_id=_source_id(data, when),
        cause=Cause.PIM_WARDEN, trigger=gv.text(data, "cause"),
        detail=_detail(data, target, is_rule),
    )


def _as_mapping(row: object) -> Mapping[str, Any]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.asdict(row)
    return row if isinstance(row, Mapping) else {}


def _source_id(data: Mapping[str, Any], when: Any) -> str:
    for key in ("event_id", "id", "row_key", "RowKey"):
        if value := gv.text(data, key):
            return value
    return f"{format_time(when)}|{data.get('action')}|{data.get('target')}"


def _detail(data: Mapping[str, Any], target: str | None, is_rule: bool) -> str | None:
    given = gv.text(data, "detail")
    if is_rule:
        change = f"rule {target}: {_compact(data.get('before'))} -> {_compact(data.get('after'))}"
        given = f"{change}; {given}" if given else change
    return given[:_DETAIL_LIMIT] if given else None


def _compact(value: object) -> str:
    if value is None or isinstance(value, str):
        return str(value)
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (ValueError, RecursionError):
        return repr(value)

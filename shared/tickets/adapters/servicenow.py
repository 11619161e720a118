"""ServiceNow records (requested items, change requests) in the Table API's JSON shape.

A Business Rule or Flow posts the record; which of its fields carry the Entra user, the app and the
duration is configuration, because every instance names its catalog variables differently.
Lifecycle comes from the task `state` (integer choices: -5 Pending, 1 Open, 2 Work in Progress,
3 Closed Complete, 4 Closed Incomplete, 7 Closed Skipped; change requests use -5 New ... -1 Implement,
0 Review, 3 Closed, 4 Canceled) and `approval` (`not requested`, `requested`, `approved`, `rejected`,
...). A choice matches by its value and, where the record carries one (Change Management API,
`sysparm_display_value=all`), by its display value; numbers may come as JSON numbers (`3.0`, `-1.0`).
Closed or rejected wins over approved: a closed ticket is never turned into a grant.
`updated_on` reads the record's `sys_updated_on`, the event time intake orders decisions by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.tickets import formats
from shared.tickets.adapters.fields import MISSING, Reader, as_object, dotted_pointer, lookup
from shared.tickets.adapters.values import SYS_ID, as_text, choice_texts, folded, quoted, scalar
from shared.tickets.decisions import Decision, GrantEligibility, Ignored, RevokeEligibility, Ticket
from shared.tickets.errors import PayloadError

EARLIEST_UPDATE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_UPDATE = datetime(3000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ServiceNowConfig:
    """Field mapping and lifecycle mapping for one ServiceNow instance (dotted paths into the record)."""

    system: str = "servicenow"
    user_field: str = "variables.pimwarden_user"
    app_field: str = "variables.pimwarden_app"
    duration_field: str | None = "variables.pimwarden_duration"
    app_role_field: str | None = None
    justification_field: str = "short_description"
    requested_by_field: str | None = "requested_for"
    grant_approvals: tuple[str, ...] = ("approved",)
    # 1/2: a requested item's Open / Work in Progress; -1: a change request's Implement
    grant_states: tuple[str, ...] = ("1", "2", "-1", "Open", "Work in Progress", "Implement")
    revoke_states: tuple[str, ...] = (
        "3", "4", "7", "Closed Complete", "Closed Incomplete", "Closed Skipped", "Closed", "Canceled",
    )
    revoke_approvals: tuple[str, ...] = ("rejected", "cancelled")


def adapt(payload: object, config: ServiceNowConfig) -> Decision:
    """Turn a ServiceNow record into grant, revoke or ignored, following the configured mapping."""
    record = _unwrap(as_object(payload))
    r = Reader()
    number = r.text(scalar(record.get("number", MISSING)), "/number", pattern=formats.TICKET_NUMBER,
                    max_len=100, what="a record number such as RITM0010001")
    sys_id = as_text(scalar(record.get("sys_id", MISSING)))
    if sys_id is None or not SYS_ID.fullmatch(sys_id):
        r.fail("/sys_id", "must be a 32-character ServiceNow sys_id")
    states = choice_texts(record.get("state", MISSING))
    if not states:
        r.fail("/state", "is required (a number such as 2, or a label such as Work in Progress)")
    approvals = choice_texts(record.get("approval", "")) or ("",)
    _check_updated_on(record, r)
    r.raise_if_failed()
    assert number is not None
    ticket = Ticket(config.system, number)
    action = _action(states, approvals, config)
    if action is None:
        return Ignored(f"state {quoted(states[0])} with approval {quoted(approvals[0])} asks for no change")
    return _decide(action, record, ticket, config, r)


def _check_updated_on(record: Mapping[str, object], r: Reader) -> None:
    """`sys_updated_on` orders this record's events: when present, it must be a plausible time."""
    raw = scalar(record.get("sys_updated_on"))
    if raw is None or raw == "":
        return
    stamped = updated_on(record)
    if stamped is None or not EARLIEST_UPDATE <= stamped < LATEST_UPDATE:
        r.fail("/sys_updated_on", "must be a UTC time \"YYYY-MM-DD HH:MM:SS\" between 2000 and 2999")


def updated_on(payload: object) -> datetime | None:
    """The record's `sys_updated_on` (Table API value: "YYYY-MM-DD HH:MM:SS", UTC); None if absent or odd."""
    if not isinstance(payload, Mapping):
        return None
    text = as_text(scalar(_unwrap(payload).get("sys_updated_on")))
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if text else None
    except ValueError:
        return None


def _unwrap(record: Mapping[str, object]) -> Mapping[str, object]:
    """Accept the Table API's `{"result": {...}}` envelope as well as the bare record."""
    inner = record.get("result")
    return inner if len(record) == 1 and isinstance(inner, Mapping) else record


def _action(states: tuple[str, ...], approvals: tuple[str, ...], config: ServiceNowConfig) -> str | None:
    state_f = {s.strip().casefold() for s in states}
    approval_f = {a.strip().casefold() for a in approvals}
    if state_f & folded(config.revoke_states) or approval_f & folded(config.revoke_approvals):
        return "revoke"
    approved = not config.grant_approvals or bool(approval_f & folded(config.grant_approvals))
    return "grant" if approved and state_f & folded(config.grant_states) else None


def _decide(action: str, record: Mapping[str, object], ticket: Ticket, config: ServiceNowConfig,
            r: Reader) -> Decision:
    user = _user(record, config.user_field, r)
    app = r.guid(scalar(lookup(record, config.app_field)), dotted_pointer(config.app_field),
                 what="a service principal object id or appId (GUID)")
    if action == "revoke":
        r.raise_if_failed()
        assert user is not None and app is not None
        return RevokeEligibility(user=user, app=app, ticket=ticket)
    duration = None
    if config.duration_field:
        raw = scalar(lookup(record, config.duration_field))
        duration = r.duration(None if raw == "" else raw, dotted_pointer(config.duration_field))
    app_role = None
    if config.app_role_field:
        role_path = dotted_pointer(config.app_role_field)
        app_role = r.guid(scalar(lookup(record, config.app_role_field)), role_path, required=False,
                          what="an app role id (GUID)")
    justification = r.text(scalar(lookup(record, config.justification_field)),
                           dotted_pointer(config.justification_field), max_len=formats.JUSTIFICATION_MAX,
                           required=False, what="one line of text")
    r.raise_if_failed()
    if user is None or app is None:
        raise PayloadError(r.errors)
    return GrantEligibility(
        user=user, app=app, ticket=ticket, duration=duration, app_role=app_role,
        justification=justification or f"Approved in {ticket.system} {ticket.number}",
        requested_by=_requested_by(record, config),
    )


def _user(record: Mapping[str, object], field: str, r: Reader) -> str | None:
    value = scalar(lookup(record, field))
    path = dotted_pointer(field)
    if isinstance(value, str) and SYS_ID.fullmatch(value):
        r.fail(path, "is a ServiceNow sys_id; map a field that carries the user's Entra UPN or object id")
        return None
    return r.principal(value, path)


def _requested_by(record: Mapping[str, object], config: ServiceNowConfig) -> str | None:
    if not config.requested_by_field:
        return None
    raw = lookup(record, config.requested_by_field)
    display = raw.get("display_value") if isinstance(raw, Mapping) else None
    text = as_text(display) or as_text(scalar(raw))
    return text if text and len(text) <= 256 and formats.matches(formats.TEXT, text) else None

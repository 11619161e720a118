"""Our own webhook contract: the one we recommend to ServiceNow admins and any other ticket system.

One small, strict, versioned JSON object per change (docs/tickets.md, schema in
docs/schemas/ticket-generic.schema.json). Strict on purpose: an unknown field is refused rather than
silently ignored, so a typo such as `durration` fails loudly instead of granting "as long as the
profile allows".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.tickets import formats
from shared.tickets.adapters.fields import MISSING, Reader, as_object, pointer
from shared.tickets.decisions import (
    Decision,
    DeregisterApp,
    GrantEligibility,
    RegisterApp,
    RevokeEligibility,
    Ticket,
)
from shared.tickets.errors import PayloadError

ACTIONS = ("grant", "revoke", "register", "deregister")
FIELDS = frozenset(
    {"version", "action", "ticket", "user", "app", "appRole", "duration", "starts",
     "justification", "requestedBy", "profile"}
)
# Fields each action may carry beyond version/action/ticket/app; `True` means required.
ACTION_FIELDS: Mapping[str, Mapping[str, bool]] = {
    "grant": {"user": True, "justification": True, "appRole": False, "duration": False,
              "starts": False, "requestedBy": False},
    "revoke": {"user": True, "justification": False, "requestedBy": False},
    "register": {"profile": True, "justification": True, "requestedBy": False},
    "deregister": {"justification": True, "requestedBy": False},
}


@dataclass(frozen=True)
class GenericConfig:
    """`ticket_systems`: accepted values of ticket.system (empty: any well-formed name)."""

    ticket_systems: tuple[str, ...] = ()


def adapt(payload: object, config: GenericConfig) -> Decision:
    """Validate a generic-contract payload and turn it into a decision."""
    body = as_object(payload)
    r = Reader()
    _check_envelope(body, r)
    action = body.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        r.fail("/action", f"must be one of {', '.join(ACTIONS)}")
        raise PayloadError(r.errors)
    _check_fields_for(action, body, r)
    ticket = _ticket(body.get("ticket", MISSING), config, r)
    app = r.guid(body.get("app", MISSING), "/app", what="a service principal object id or appId (GUID)")
    decision = _build(action, body, ticket, app, r)
    r.raise_if_failed()
    if decision is None:  # every None above comes with a recorded error; belt and braces
        raise PayloadError([])
    return decision


def _check_envelope(body: Mapping[str, object], r: Reader) -> None:
    for key, value in body.items():
        if key not in FIELDS:
            r.fail(pointer(key), "is not a field of this contract")
        elif value is None and key != "duration":
            r.fail(pointer(key), "must not be null (omit the field instead)")
        elif value == "":
            r.fail(pointer(key), "must not be empty (omit the field instead)")
    version = body.get("version", 1)
    if isinstance(version, bool) or version != 1:
        r.fail("/version", "must be 1")


def _check_fields_for(action: str, body: Mapping[str, object], r: Reader) -> None:
    allowed = ACTION_FIELDS[action]
    for key in FIELDS - {"version", "action", "ticket", "app"}:
        if key in body and key not in allowed:
            r.fail(pointer(key), f"is not allowed when action is {action!r}")
        elif allowed.get(key) and key not in body:
            r.fail(pointer(key), f"is required when action is {action!r}")


def _ticket(value: object, config: GenericConfig, r: Reader) -> Ticket | None:
    if not isinstance(value, Mapping):
        r.fail("/ticket", "must be an object with system and number")
        return None
    for key in value:
        if key not in ("system", "number"):
            r.fail(pointer("ticket", str(key)), "is not a field of ticket")
    system = r.text(value.get("system", MISSING), "/ticket/system", pattern=formats.TICKET_SYSTEM,
                    max_len=50, what="a ticket system name such as servicenow")
    number = r.text(value.get("number", MISSING), "/ticket/number", pattern=formats.TICKET_NUMBER,
                    max_len=100, what="a ticket number such as RITM0010001")
    if system is not None and config.ticket_systems and system not in config.ticket_systems:
        r.fail("/ticket/system", f"must be one of {', '.join(config.ticket_systems)}")
        return None
    return Ticket(system, number) if system is not None and number is not None else None


def _build(action: str, body: Mapping[str, object], ticket: Ticket | None, app: str | None,
           r: Reader) -> Decision | None:
    get = body.get
    reason = r.text(get("justification", MISSING), "/justification", max_len=formats.JUSTIFICATION_MAX,
                    required=False, what="one line of text")
    r.principal(get("requestedBy", MISSING), "/requestedBy", required=False)
    if action in ("grant", "revoke"):
        user = r.principal(get("user", MISSING), "/user", required=False)
        if action == "revoke":
            return RevokeEligibility(user=user, app=app, ticket=ticket) if user and app and ticket else None
        return _grant(body, user, app, ticket, reason, r)
    if action == "register":
        profile = r.text(get("profile", MISSING), "/profile", pattern=formats.PROFILE, max_len=64,
                         required=False, what="a profile name such as standard")
        if app and ticket and profile and reason:
            return RegisterApp(app=app, profile=profile, ticket=ticket, reason=reason)
        return None
    return DeregisterApp(app=app, ticket=ticket, reason=reason) if app and ticket and reason else None


def _grant(body: Mapping[str, object], user: str | None, app: str | None, ticket: Ticket | None,
           reason: str | None, r: Reader) -> GrantEligibility | None:
    duration = r.duration(body.get("duration", MISSING), "/duration")
    app_role = r.guid(body.get("appRole", MISSING), "/appRole", required=False, what="an app role id (GUID)")
    starts_text = r.text(body.get("starts", MISSING), "/starts", pattern=formats.DATETIME, max_len=40,
                         required=False, what="an RFC 3339 date-time with an offset")
    starts = None
    if starts_text is not None:
        try:
            starts = formats.parse_strict_datetime(starts_text)
        except ValueError as error:
            r.fail("/starts", str(error))
    requested_by = body.get("requestedBy")
    if not (user and app and ticket and reason) or r.errors:
        return None
    return GrantEligibility(
        user=user, app=app, ticket=ticket, justification=reason, duration=duration, starts=starts,
        app_role=app_role, requested_by=requested_by if isinstance(requested_by, str) else None,
    )

"""Jira webhook events, Cloud and Data Center (`jira:issue_created`, `_updated`, `_deleted`).

A grant or revoke is a *transition*: an update is actionable only when its `changelog` moves the
status into a configured approved (grant) or closing (revoke) status. Any other update, comment or
event is `Ignored` with the reason. Custom field ids (`customfield_10050`) are per site, so the
fields carrying the app and the user have no defaults and must be configured. A user picker gives an
Atlassian accountId, not an Entra identity: its `emailAddress` is used when the site exposes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from shared.tickets import formats
from shared.tickets.adapters.fields import MISSING, Reader, as_object, lookup, pointer
from shared.tickets.adapters.values import as_text, folded, jira_value, quoted
from shared.tickets.decisions import Decision, GrantEligibility, Ignored, RevokeEligibility, Ticket
from shared.tickets.errors import FieldError, PayloadError

ISSUE_KEY = r"^[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}$"
MAX_DURATION_HOURS = 24 * 3650


@dataclass(frozen=True)
class JiraConfig:
    """Which issue fields carry app and user (`customfield_...`, paths under `issue.fields`), and which
    statuses grant or revoke."""

    app_field: str
    user_field: str
    duration_field: str | None = None
    app_role_field: str | None = None
    justification_field: str = "summary"
    grant_statuses: tuple[str, ...] = ("Approved",)
    revoke_statuses: tuple[str, ...] = ("Done", "Closed", "Declined", "Canceled", "Cancelled")
    revoke_on_delete: bool = True
    system: str = "jira"


def adapt(payload: object, config: JiraConfig) -> Decision:
    """Turn a Jira webhook event into grant, revoke or ignored."""
    event = as_object(payload)
    r = Reader()
    name = r.text(event.get("webhookEvent", MISSING), "/webhookEvent", pattern=r"^[A-Za-z0-9_:.-]{1,64}$",
                  max_len=64, what="a Jira event name such as jira:issue_updated")
    if formats.parse_jira_timestamp(event.get("timestamp")) is None:
        r.fail("/timestamp", "must be milliseconds since the epoch (Jira Cloud) or a date-time with an "
               "offset (Jira Data Center), between 2000 and 2999")
    r.raise_if_failed()
    if name not in ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted"):
        return Ignored(f"event {quoted(name)} is not an issue event")
    issue, ticket = _issue(event, config, r)
    action = _action(name, event, issue, config)
    if isinstance(action, Ignored):
        return action
    return _decide(action, issue, ticket, config, r)


def _issue(event: Mapping[str, object], config: JiraConfig, r: Reader) -> tuple[Mapping[str, object], Ticket]:
    issue = event.get("issue")
    if not isinstance(issue, Mapping) or not isinstance(issue.get("fields"), Mapping):
        raise PayloadError([FieldError("/issue", "must be an object with key and fields")])
    key = r.text(issue.get("key", MISSING), "/issue/key", pattern=ISSUE_KEY, max_len=64,
                 what="an issue key such as ACCESS-42")
    r.raise_if_failed()
    assert key is not None
    return issue, Ticket(config.system, key)


def _action(name: str, event: Mapping[str, object], issue: Mapping[str, object],
            config: JiraConfig) -> str | Ignored:
    if name == "jira:issue_deleted":
        return "revoke" if config.revoke_on_delete else Ignored("issue deleted; revoke_on_delete is off")
    if name == "jira:issue_created":
        status = as_text(lookup(issue, "fields.status.name"))
        if status is not None and status.strip().casefold() in folded(config.grant_statuses):
            return "grant"
        return Ignored(f"issue created in status {quoted(status)}, not an approved status")
    target = _status_transition(event.get("changelog"))
    if target is None:
        return Ignored("update does not change the status")
    if target.strip().casefold() in folded(config.revoke_statuses):
        return "revoke"
    if target.strip().casefold() in folded(config.grant_statuses):
        return "grant"
    return Ignored(f"status changed to {quoted(target)}, neither an approved nor a closing status")


def _status_transition(changelog: object) -> str | None:
    """The status the changelog moves to (last status item wins), or None when status is unchanged."""
    items = changelog.get("items") if isinstance(changelog, Mapping) else None
    if not isinstance(items, Sequence) or isinstance(items, str):
        return None
    target = None
    for item in items:
        if isinstance(item, Mapping) and "status" in (item.get("field"), item.get("fieldId")):
            target = as_text(item.get("toString")) or ""
    return target


def _decide(
    action: str, issue: Mapping[str, object], ticket: Ticket, config: JiraConfig, r: Reader
) -> Decision:
    fields = issue["fields"]
    assert isinstance(fields, Mapping)
    user = r.principal(jira_value(lookup(fields, config.user_field)), _path(config.user_field))
    app = r.guid(jira_value(lookup(fields, config.app_field)), _path(config.app_field),
                 what="a service principal object id or appId (GUID)")
    if action == "revoke":
        r.raise_if_failed()
        assert user is not None and app is not None
        return RevokeEligibility(user=user, app=app, ticket=ticket)
    duration = _duration(fields, config, r)
    app_role = None
    if config.app_role_field:
        app_role = r.guid(jira_value(lookup(fields, config.app_role_field)), _path(config.app_role_field),
                          required=False, what="an app role id (GUID)")
    justification = r.text(lookup(fields, config.justification_field), _path(config.justification_field),
                           max_len=formats.JUSTIFICATION_MAX, required=False, what="one line of text")
    r.raise_if_failed()
    assert user is not None and app is not None
    return GrantEligibility(
        user=user, app=app, ticket=ticket, duration=duration, app_role=app_role,
        justification=justification or f"Approved in {ticket.system} {ticket.number}",
        requested_by=_reporter(fields),
    )


def _duration(fields: Mapping[str, object], config: JiraConfig, r: Reader) -> timedelta | None:
    """ISO-8601 text, or a Jira number field read as hours; empty means as the profile allows."""
    if not config.duration_field:
        return None
    value = jira_value(lookup(fields, config.duration_field))
    path = _path(config.duration_field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 < value <= MAX_DURATION_HOURS or value != value:
            r.fail(path, f"must be between 0 and {MAX_DURATION_HOURS} hours")
            return None
        return timedelta(hours=float(value))
    return r.duration(None if value == "" else value, path)


def _reporter(fields: Mapping[str, object]) -> str | None:
    reporter = fields.get("reporter")
    if not isinstance(reporter, Mapping):
        return None
    for key in ("emailAddress", "accountId"):
        text = as_text(reporter.get(key))
        if text and len(text) <= 256 and formats.matches(formats.TEXT, text):
            return text
    return None


def _path(field: str) -> str:
    return pointer("issue", "fields", *field.split("."))

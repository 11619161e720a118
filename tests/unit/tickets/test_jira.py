"""Jira webhook events: transitions from the changelog, field shapes, ignored events, refusals."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from shared.tickets.adapters.jira import JiraConfig, adapt
from shared.tickets.decisions import GrantEligibility, Ignored, RevokeEligibility, Ticket
from shared.tickets.errors import PayloadError

APP = "6f1c2a4e-0d7b-4c55-9a3e-2b8f1d9c7e10"
CONFIG = JiraConfig(
    app_field="customfield_10050", user_field="customfield_10051", duration_field="customfield_10052"
)
EVENT: dict[str, Any] = {
    "timestamp": 1772366400000,
    "webhookEvent": "jira:issue_updated",
    "user": {"accountId": "557058:approver", "displayName": "Approver"},
    "issue": {
        "id": "10002",
        "key": "ACCESS-42",
        "fields": {
            "summary": "Payroll admin access for quarter end",
            "status": {"name": "Approved"},
            "reporter": {"accountId": "557058:ann", "emailAddress": "ann.lee@contoso.com"},
            "customfield_10050": {"value": APP, "id": "10100"},
            "customfield_10051": {"accountId": "557058:ann", "emailAddress": "ann.lee@contoso.com"},
            "customfield_10052": "P7D",
        },
    },
    "changelog": {
        "id": "10400",
        "items": [
            {"field": "assignee", "fieldtype": "jira", "fromString": None, "toString": "Bo"},
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": "3",
                "fromString": "In Review",
                "to": "10001",
                "toString": "Approved",
            },
        ],
    },
}


def event(*, to: str | None = "Approved", name: str = "jira:issue_updated", **fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(EVENT)
    out["webhookEvent"] = name
    out["issue"]["fields"].update(fields)
    items = out["changelog"]["items"]
    if to is None:
        del items[1]
    else:
        items[1]["toString"] = to
    return out


def test_transition_to_approved_grants() -> None:
    assert adapt(EVENT, CONFIG) == GrantEligibility(
        user="ann.lee@contoso.com",
        app=APP,
        ticket=Ticket("jira", "ACCESS-42"),
        justification="Payroll admin access for quarter end",
        duration=timedelta(days=7),
        requested_by="ann.lee@contoso.com",
    )


@pytest.mark.parametrize(
    ("to", "kind"),
    [
        ("Approved", GrantEligibility),
        ("APPROVED", GrantEligibility),
        ("Done", RevokeEligibility),
        ("Declined", RevokeEligibility),
        ("Canceled", RevokeEligibility),
        ("In Progress", Ignored),
    ],
)
def test_status_transitions(to: str, kind: type) -> None:
    assert isinstance(adapt(event(to=to), CONFIG), kind)


def test_update_without_status_change_is_ignored() -> None:
    assert adapt(event(to=None), CONFIG) == Ignored("update does not change the status")
    no_changelog = {k: v for k, v in EVENT.items() if k != "changelog"}
    assert adapt(no_changelog, CONFIG) == Ignored("update does not change the status")


def test_created_in_approved_status_grants_and_otherwise_is_ignored() -> None:
    assert isinstance(adapt(event(name="jira:issue_created"), CONFIG), GrantEligibility)
    reason = adapt(event(name="jira:issue_created", status={"name": "Open"}), CONFIG)
    assert reason == Ignored("issue created in status 'Open', not an approved status")


def test_deleted_issue_revokes_unless_configured_off() -> None:
    assert isinstance(adapt(event(name="jira:issue_deleted"), CONFIG), RevokeEligibility)
    off = JiraConfig(app_field="customfield_10050", user_field="customfield_10051", revoke_on_delete=False)
    assert isinstance(adapt(event(name="jira:issue_deleted"), off), Ignored)


def test_other_events_are_ignored() -> None:
    assert adapt({**EVENT, "webhookEvent": "comment_created"}, CONFIG) == Ignored(
        "event 'comment_created' is not an issue event"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT8H", timedelta(hours=8)),
        (8, timedelta(hours=8)),
        (1.5, timedelta(minutes=90)),
        (None, None),
        ("", None),
        ([{"value": "P1D"}], timedelta(days=1)),
    ],
)
def test_duration_field_shapes(value: object, expected: timedelta | None) -> None:
    decision = adapt(event(customfield_10052=value), CONFIG)
    assert isinstance(decision, GrantEligibility) and decision.duration == expected


def test_plain_text_fields_work_too() -> None:
    decision = adapt(event(customfield_10050=APP.upper(), customfield_10051="bo@contoso.com"), CONFIG)
    assert isinstance(decision, GrantEligibility) and (decision.app, decision.user) == (APP, "bo@contoso.com")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"customfield_10051": {"accountId": "557058:ann"}}, ["/issue/fields/customfield_10051"]),
        ({"customfield_10050": "payroll"}, ["/issue/fields/customfield_10050"]),
        ({"customfield_10050": [{"value": APP}, {"value": APP}]}, ["/issue/fields/customfield_10050"]),
        ({"customfield_10052": -1}, ["/issue/fields/customfield_10052"]),
        ({"customfield_10052": "P1Y"}, ["/issue/fields/customfield_10052"]),
        ({"customfield_10052": True}, ["/issue/fields/customfield_10052"]),
    ],
)
def test_refused_fields(fields: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(PayloadError) as caught:
        adapt(event(**fields), CONFIG)
    assert [e.path for e in caught.value.errors] == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({**EVENT, "timestamp": "now"}, ["/timestamp"]),
        ({**EVENT, "webhookEvent": 5}, ["/webhookEvent"]),
        ({**EVENT, "issue": None}, ["/issue"]),
        ({**EVENT, "issue": {**EVENT["issue"], "key": "access 42"}}, ["/issue/key"]),
    ],
)
def test_refused_envelopes(payload: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(PayloadError) as caught:
        adapt(payload, CONFIG)
    assert [e.path for e in caught.value.errors] == expected

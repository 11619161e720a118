"""ServiceNow records: lifecycle mapping, configurable fields, Table API value shapes, refusals."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from shared.tickets.adapters.servicenow import ServiceNowConfig, adapt
from shared.tickets.decisions import GrantEligibility, Ignored, RevokeEligibility, Ticket
from shared.tickets.errors import PayloadError

APP = "6f1c2a4e-0d7b-4c55-9a3e-2b8f1d9c7e10"
SYS_ID = "9d385017c611228701d22104cc95c371"
RITM: dict[str, Any] = {
    "number": "RITM0010001",
    "sys_id": SYS_ID,
    "state": "2",
    "approval": "approved",
    "short_description": "Payroll admin access",
    "requested_for": {
        "link": f"https://dev.service-now.com/api/now/table/sys_user/{SYS_ID}",
        "value": SYS_ID,
    },
    "variables": {
        "pimwarden_user": "ann.lee@contoso.com",
        "pimwarden_app": APP,
        "pimwarden_duration": "PT8H",
    },
}
CONFIG = ServiceNowConfig()


def record(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(RITM)
    out.update(changes)
    return out


def paths(payload: object, config: ServiceNowConfig = CONFIG) -> list[str]:
    with pytest.raises(PayloadError) as caught:
        adapt(payload, config)
    return [e.path for e in caught.value.errors]


def test_approved_work_in_progress_item_grants() -> None:
    assert adapt(RITM, CONFIG) == GrantEligibility(
        user="ann.lee@contoso.com",
        app=APP,
        ticket=Ticket("servicenow", "RITM0010001"),
        justification="Payroll admin access",
        duration=timedelta(hours=8),
        requested_by=SYS_ID,
    )


@pytest.mark.parametrize(
    ("state", "approval", "kind"),
    [
        ("1", "approved", GrantEligibility),
        ("2", "approved", GrantEligibility),
        ("Work in Progress", "Approved", GrantEligibility),
        (2, "approved", GrantEligibility),
        ("3", "approved", RevokeEligibility),
        ("4", "approved", RevokeEligibility),
        ("7", "approved", RevokeEligibility),
        ("Closed Incomplete", "approved", RevokeEligibility),
        ("2", "rejected", RevokeEligibility),
        ("-5", "approved", Ignored),
        ("2", "requested", Ignored),
        ("1", "not requested", Ignored),
    ],
)
def test_lifecycle_mapping(state: object, approval: str, kind: type) -> None:
    assert isinstance(adapt(record(state=state, approval=approval), CONFIG), kind)


def test_ignored_reason_names_state_and_approval() -> None:
    assert adapt(record(state="-5", approval="requested"), CONFIG) == Ignored(
        "state '-5' with approval 'requested' asks for no change"
    )


def test_ignored_record_does_not_need_app_or_user() -> None:
    assert isinstance(adapt(record(state="-5", variables={}), CONFIG), Ignored)


def test_display_value_all_shape_and_result_envelope() -> None:
    shaped = record(
        state={"display_value": "Work in Progress", "value": "2"},
        approval={"display_value": "Approved", "value": "approved"},
        number={"display_value": "RITM0010001", "value": "RITM0010001"},
        requested_for={"display_value": "Ann Lee", "value": SYS_ID, "link": "https://x"},
    )
    decision = adapt({"result": shaped}, CONFIG)
    assert isinstance(decision, GrantEligibility) and decision.requested_by == "Ann Lee"


def test_flat_variables_keys_and_custom_mapping() -> None:
    config = ServiceNowConfig(
        user_field="u_entra_upn",
        app_field="variables.app",
        duration_field=None,
        app_role_field="u_role",
        grant_states=("-1",),
        system="snow-prod",
    )
    payload = {
        "number": "CHG0030002",
        "sys_id": SYS_ID,
        "state": "-1",
        "approval": "approved",
        "u_entra_upn": "bo@contoso.com",
        "variables.app": APP,
        "u_role": "00000000-0000-0000-0000-000000000000",
    }
    decision = adapt(payload, config)
    assert decision == GrantEligibility(
        user="bo@contoso.com",
        app=APP,
        ticket=Ticket("snow-prod", "CHG0030002"),
        justification="Approved in snow-prod CHG0030002",
        app_role="00000000-0000-0000-0000-000000000000",
    )


def test_empty_duration_variable_means_as_the_profile_allows() -> None:
    variables = {**RITM["variables"], "pimwarden_duration": ""}
    decision = adapt(record(variables=variables), CONFIG)
    assert isinstance(decision, GrantEligibility) and decision.duration is None


def test_user_given_as_sys_id_reference_is_refused_with_advice() -> None:
    config = ServiceNowConfig(user_field="requested_for")
    with pytest.raises(PayloadError) as caught:
        adapt(RITM, config)
    assert caught.value.errors[0].path == "/requested_for"
    assert "Entra UPN or object id" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"number": None},
            [
                "/number",
            ],
        ),
        ({"sys_id": "abc"}, ["/sys_id"]),
        ({"state": None}, ["/state"]),
        ({"state": ""}, ["/state"]),
        ({"variables": {}}, ["/variables/pimwarden_user", "/variables/pimwarden_app"]),
        (
            {"variables": {"pimwarden_user": "x", "pimwarden_app": "y", "pimwarden_duration": "8 hours"}},
            ["/variables/pimwarden_user", "/variables/pimwarden_app", "/variables/pimwarden_duration"],
        ),
        ({"short_description": "line\nbreak"}, ["/short_description"]),
    ],
)
def test_refusals_name_the_fields(changes: dict[str, Any], expected: list[str]) -> None:
    assert paths(record(**changes)) == expected


def test_revoke_needs_user_and_app_too() -> None:
    assert paths(record(state="3", variables={"pimwarden_app": APP})) == ["/variables/pimwarden_user"]


def change_record(state: float, label: str, approval: str = "approved") -> dict[str, Any]:
    """A change request as the Change Management API (sn_chg_rest) returns it: every field an object
    with `value` and `display_value`, choices as JSON numbers."""
    def field(value: object, display: object = None) -> dict[str, object]:
        return {"value": value, "display_value": display if display is not None else value}

    return {"result": {
        "number": field("CHG0030001"),
        "sys_id": field(SYS_ID),
        "state": field(state, label),
        "approval": field(approval, approval.capitalize()),
        "short_description": field("Payroll admin access"),
        "sys_updated_on": field("2026-03-01 10:00:00", "2026-03-01 02:00:00"),
        "variables": {"pimwarden_user": "ann.lee@contoso.com", "pimwarden_app": APP},
    }}


@pytest.mark.parametrize(
    ("state", "label", "kind"),
    [
        (-1.0, "Implement", GrantEligibility),
        (3.0, "Closed", RevokeEligibility),
        (4.0, "Canceled", RevokeEligibility),
        (-5.0, "New", Ignored),
        (-3.0, "Authorize", Ignored),
    ],
)
def test_change_management_api_records_with_float_choices_are_understood(
    state: float, label: str, kind: type
) -> None:
    decision = adapt(change_record(state, label), CONFIG)
    assert isinstance(decision, kind), decision
    if not isinstance(decision, Ignored):
        assert decision.ticket == Ticket("servicenow", "CHG0030001")


def test_a_choice_matches_by_its_display_value_too() -> None:
    labels_only = ServiceNowConfig(grant_states=("Implement",), revoke_states=("Closed",))
    assert isinstance(adapt(change_record(-1.0, "Implement"), labels_only), GrantEligibility)
    assert isinstance(adapt(change_record(3.0, "Closed"), labels_only), RevokeEligibility)


@pytest.mark.parametrize("stamp", ["0001-01-01 00:00:00", "9999-12-31 23:59:59", "yesterday"])
def test_sys_updated_on_outside_a_plausible_range_is_refused(stamp: str) -> None:
    assert paths(record(sys_updated_on=stamp)) == ["/sys_updated_on"]

"""The generic contract: decisions for each action, refusals with field paths, and schema agreement."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from shared.tickets import formats
from shared.tickets.adapters.generic import GenericConfig, adapt
from shared.tickets.decisions import DeregisterApp, GrantEligibility, RegisterApp, RevokeEligibility, Ticket
from shared.tickets.errors import PayloadError

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "ticket-generic.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
APP = "6F1C2A4E-0D7B-4C55-9A3E-2B8F1D9C7E10"
ROLE = "00000000-0000-0000-0000-000000000000"
TICKET = {"system": "servicenow", "number": "RITM0010001"}
GRANT: dict[str, Any] = {
    "action": "grant",
    "ticket": TICKET,
    "user": "ann.lee@contoso.com",
    "app": APP,
    "duration": "P30D",
    "justification": "Quarter-end close",
}
REVOKE: dict[str, Any] = {"action": "revoke", "ticket": TICKET, "user": "ann.lee@contoso.com", "app": APP}
REGISTER: dict[str, Any] = {
    "action": "register",
    "ticket": TICKET,
    "app": APP,
    "profile": "standard",
    "justification": "CHG0030002 payroll onboarding",
}
DEREGISTER: dict[str, Any] = {
    "action": "deregister",
    "ticket": TICKET,
    "app": APP,
    "justification": "retired",
}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def errors_of(payload: object, config: GenericConfig | None = None) -> list[tuple[str, str]]:
    with pytest.raises(PayloadError) as caught:
        adapt(payload, config or GenericConfig())
    return [(e.path, e.message) for e in caught.value.errors]


def test_grant_carries_every_field() -> None:
    payload = with_(
        GRANT, appRole=ROLE, starts="2026-05-01T08:00:00+02:00", requestedBy="bo@contoso.com", version=1
    )
    assert adapt(payload, GenericConfig()) == GrantEligibility(
        user="ann.lee@contoso.com",
        app=APP.lower(),
        ticket=Ticket("servicenow", "RITM0010001"),
        justification="Quarter-end close",
        duration=timedelta(days=30),
        app_role=ROLE,
        starts=datetime(2026, 5, 1, 6, 0, tzinfo=UTC),
        requested_by="bo@contoso.com",
    )


@pytest.mark.parametrize("duration", [None, ...])
def test_grant_without_duration_means_as_the_profile_allows(duration: object) -> None:
    decision = adapt(with_(GRANT, duration=duration), GenericConfig())
    assert isinstance(decision, GrantEligibility) and decision.duration is None


def test_revoke_register_deregister() -> None:
    ticket = Ticket("servicenow", "RITM0010001")
    assert adapt(REVOKE, GenericConfig()) == RevokeEligibility(
        user="ann.lee@contoso.com", app=APP.lower(), ticket=ticket
    )
    assert adapt(REGISTER, GenericConfig()) == RegisterApp(
        app=APP.lower(), profile="standard", ticket=ticket, reason="CHG0030002 payroll onboarding"
    )
    assert adapt(DEREGISTER, GenericConfig()) == DeregisterApp(
        app=APP.lower(), ticket=ticket, reason="retired"
    )


def test_every_problem_is_reported_at_once_with_json_pointers() -> None:
    payload = with_(GRANT, user="not a user", duration="P1M", extra=1, ticket={"system": "sn", "number": ""})
    assert sorted(path for path, _ in errors_of(payload)) == [
        "/duration",
        "/extra",
        "/ticket/number",
        "/user",
    ]


def test_ticket_system_allow_list() -> None:
    config = GenericConfig(ticket_systems=("jira",))
    assert errors_of(GRANT, config) == [("/ticket/system", "must be one of jira")]


def test_action_is_checked_first() -> None:
    assert errors_of(with_(GRANT, action="delete")) == [
        ("/action", "must be one of grant, revoke, register, deregister")
    ]


def test_non_object_payload() -> None:
    assert errors_of([GRANT]) == [("", "must be a JSON object")]


# (name, payload, valid per code; "server" = valid per schema, refused by the service only)
CASES: list[tuple[str, object, bool | str]] = [
    ("grant", GRANT, True),
    ("grant hours", with_(GRANT, duration="PT8H"), True),
    ("grant day and time", with_(GRANT, duration="P1DT12H30M"), True),
    ("grant null duration", with_(GRANT, duration=None), True),
    ("grant object id user", with_(GRANT, user="0f8fad5b-d9cb-469f-a165-70867728950e"), True),
    ("grant guest upn", with_(GRANT, user="ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"), True),
    ("grant apostrophe upn", with_(GRANT, user="o'brien@contoso.com"), True),
    ("grant app role", with_(GRANT, appRole=ROLE), True),
    ("grant starts", with_(GRANT, starts="2026-05-01T08:00:00Z"), True),
    ("grant version 1", with_(GRANT, version=1), True),
    ("revoke", REVOKE, True),
    ("revoke with justification", with_(REVOKE, justification="ticket closed"), True),
    ("register", REGISTER, True),
    ("deregister", DEREGISTER, True),
    ("max justification", with_(GRANT, justification="x" * 500), True),
    ("unicode justification", with_(GRANT, justification="Zugriff für Lohnabschluss ✓"), True),
    ("unknown field", with_(GRANT, durration="PT8H"), False),
    ("unknown ticket field", with_(GRANT, ticket={**TICKET, "url": "x"}), False),
    ("missing action", with_(GRANT, action=...), False),
    ("bad action", with_(GRANT, action="GRANT"), False),
    ("missing ticket", with_(GRANT, ticket=...), False),
    ("ticket not object", with_(GRANT, ticket="RITM1"), False),
    ("ticket number too long", with_(GRANT, ticket={**TICKET, "number": "R" * 101}), False),
    ("ticket number with slash", with_(GRANT, ticket={**TICKET, "number": "RITM/1"}), False),
    ("ticket system odd", with_(GRANT, ticket={**TICKET, "system": "1sn"}), False),
    ("missing app", with_(GRANT, app=...), False),
    ("app not guid", with_(GRANT, app="payroll"), False),
    ("app with odata", with_(GRANT, app="x' or 1 eq 1"), False),
    ("missing user", with_(GRANT, user=...), False),
    ("user odata", with_(GRANT, user="a@b.com' or startswith(displayName,'a')"), False),
    ("user no domain", with_(GRANT, user="ann"), False),
    ("user too long", with_(GRANT, user="a" * 60 + "@" + "b" * 50 + ".com"), False),
    ("user number", with_(GRANT, user=42), False),
    ("missing justification", with_(GRANT, justification=...), False),
    ("empty justification", with_(GRANT, justification=""), False),
    ("blank justification", with_(GRANT, justification="   "), False),
    ("newline justification", with_(GRANT, justification="a\nb"), False),
    ("long justification", with_(GRANT, justification="x" * 501), False),
    ("null optional", with_(GRANT, appRole=None), False),
    ("duration months", with_(GRANT, duration="P1M"), False),
    ("duration weeks", with_(GRANT, duration="P2W"), False),
    ("duration zero", with_(GRANT, duration="PT0S"), False),
    ("duration lowercase", with_(GRANT, duration="pt8h"), False),
    ("duration number", with_(GRANT, duration=8), False),
    ("duration bare T", with_(GRANT, duration="P1DT"), False),
    ("duration over cap", with_(GRANT, duration="P3651D"), "server"),
    ("starts without offset", with_(GRANT, starts="2026-05-01T08:00:00"), False),
    ("starts impossible date", with_(GRANT, starts="2026-02-30T08:00:00Z"), "server"),
    ("trailing newline", with_(GRANT, ticket={**TICKET, "number": "RITM1\n"}), "server"),
    ("version 2", with_(GRANT, version=2), False),
    ("version true", with_(GRANT, version=True), False),
    ("revoke with duration", with_(REVOKE, duration="PT8H"), False),
    ("revoke without user", with_(REVOKE, user=...), False),
    ("grant with profile", with_(GRANT, profile="standard"), False),
    ("register without profile", with_(REGISTER, profile=...), False),
    ("register with user", with_(REGISTER, user="ann@contoso.com"), False),
    ("register bad profile", with_(REGISTER, profile="Standard Profile"), False),
    ("deregister without justification", with_(DEREGISTER, justification=...), False),
    ("deregister with profile", with_(DEREGISTER, profile="standard"), False),
    ("array", [GRANT], False),
    ("string", "grant", False),
    ("null", None, False),
]


def code_accepts(payload: object) -> bool:
    try:
        adapt(payload, GenericConfig())
    except PayloadError:
        return False
    return True


@pytest.mark.parametrize(("name", "payload", "valid"), CASES, ids=[c[0] for c in CASES])
def test_schema_and_code_agree(name: str, payload: object, valid: bool | str) -> None:
    schema_accepts = VALIDATOR.is_valid(payload)
    assert code_accepts(payload) is (valid is True)
    assert schema_accepts is (valid is not False)  # "server" cases: the schema cannot express the rule


def test_schema_is_valid_draft_2020_12_and_its_examples_are_accepted_by_both() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for example in SCHEMA["examples"]:
        assert VALIDATOR.is_valid(example) and code_accepts(example)


def test_schema_patterns_are_the_code_patterns() -> None:
    props, defs = SCHEMA["properties"], SCHEMA["$defs"]
    assert defs["guid"]["pattern"] == formats.GUID
    assert defs["upn"]["pattern"] == formats.UPN and defs["upn"]["maxLength"] == formats.UPN_MAX
    assert defs["text"]["pattern"] == formats.TEXT
    assert defs["text"]["maxLength"] == formats.JUSTIFICATION_MAX
    assert props["duration"]["pattern"] == formats.DURATION
    assert props["starts"]["pattern"] == formats.DATETIME
    assert props["profile"]["pattern"] == formats.PROFILE
    assert props["ticket"]["properties"]["system"]["pattern"] == formats.TICKET_SYSTEM
    assert props["ticket"]["properties"]["number"]["pattern"] == formats.TICKET_NUMBER

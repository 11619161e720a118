"""Profile loading and validation: the shipped file, every refusal (with its message), fingerprints."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shared.domain.profile_parsing import parse_profile_set
from shared.domain.profiles import (
    SAFE_OWNER_SETTINGS,
    ApproverKind,
    ProfileError,
    RoleSelection,
    load_profiles,
    profile_fingerprint,
)

USER = "3f1e2d4c-1111-4a5b-9c8d-000000000001"


def base() -> dict[str, Any]:
    """A minimal valid file with one profile `p`."""
    return {
        "version": 1,
        "default_profile": "p",
        "profiles": {"p": {"member": {"activation": {"maximum": "PT30M", "require_mfa": True}}}},
    }


def with_member(**sections: Any) -> dict[str, Any]:
    data = base()
    data["profiles"]["p"]["member"].update(sections)
    return data


def with_activation(**fields: Any) -> dict[str, Any]:
    data = base()
    data["profiles"]["p"]["member"]["activation"].update(fields)
    return data


def test_shipped_profiles_load_and_follow_the_seed() -> None:
    profiles = load_profiles()
    standard = profiles.get(None)
    assert standard.name == "standard"
    assert (standard.member.activation_maximum, standard.member.require_mfa) == ("PT30M", True)
    assert standard.member.require_justification and not standard.member.eligibility.allow_permanent
    strict = profiles.get("strict")
    assert strict.member.require_ticket and strict.exclusive and strict.protected_group
    assert strict.member.approval is not None
    assert strict.member.approval.stages[0].approvers[0].kind is ApproverKind.GROUP
    assert strict.owner.approval is not None
    assert standard.owner == SAFE_OWNER_SETTINGS  # owner omitted -> safe default


def test_safe_owner_default_never_allows_permanent_or_mfa_free_ownership() -> None:
    assert SAFE_OWNER_SETTINGS.require_mfa and SAFE_OWNER_SETTINGS.require_justification
    assert not SAFE_OWNER_SETTINGS.eligibility.allow_permanent
    assert not SAFE_OWNER_SETTINGS.active_assignment.allow_permanent


def test_override_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(base()), encoding="utf-8")
    assert list(load_profiles(path).profiles) == ["p"]


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ProfileError, match="cannot read profiles"):
        load_profiles(path)


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="unknown profile 'gold'; known profiles: conditional-access"):
        load_profiles().get("gold")


APPROVAL_WITHOUT_APPROVERS = {"required": True, "stages": [{"approvers": []}]}
REFUSALS = [
    (base() | {"version": 2}, "version: unsupported version 2"),
    (base() | {"profiles": {}}, "profiles: no profiles defined"),
    (base() | {"default_profile": "nope"}, "default_profile: names 'nope', which is not defined"),
    (base() | {"extra": 1}, "(top level): unknown key(s) extra"),
    (with_activation(require_mfa=True, authentication_context="c1"), "MfaAndAcrsConflict"),
    (
        with_activation(require_mfa=False, authentication_context="gold"),
        "'gold' is not an authentication context",
    ),
    (
        with_activation(maximum="30 minutes"),
        "member.activation.maximum: '30 minutes' is not an ISO-8601 duration",
    ),
    (with_activation(maximum="P1M"), "is not an ISO-8601 duration"),
    (
        with_activation(maximum="PT9H"),
        "member.activation.maximum: PT9H is out of range: PIM accepts from PT30M to PT8H",
    ),
    (with_activation(maximum="PT4M"), "PT4M is out of range"),
    (
        with_activation(maximum="PT15M"),
        "member.activation.maximum: PT15M is out of range: PIM accepts from PT30M to PT8H",
    ),
    (with_activation(approval={"required": True}), "approval.stages: approval is required but no stage"),
    (
        with_activation(approval=APPROVAL_WITHOUT_APPROVERS),
        "stages[0].approvers: approval is required but no approver",
    ),
    (
        with_activation(approval={"stages": [{"approvers": [{"user": "bob"}]}]}),
        "'bob' is not an object id (GUID)",
    ),
    (
        with_activation(approval={"stages": [{"approvers": [{"user": USER, "group": USER}]}]}),
        'exactly one of "user"',
    ),
    (
        with_activation(approval={"stages": [{"approvers": [{"user": USER}], "timeout_days": 30}]}),
        "timeout_days",
    ),
    (with_activation(require_mfa="yes"), "member.activation.require_mfa: must be true or false"),
    (with_activation(mfa=True), "member.activation: unknown key(s) mfa"),
    (with_member(eligibility={"allow_permanent": False, "maximum": "forever"}), "member.eligibility.maximum"),
    (with_member(eligibility={"permanent": True}), "member.eligibility: unknown key(s) permanent"),
    (
        with_member(active_assignment={"maximum": "PT1M"}),
        "member.active_assignment.maximum: PT1M is out of range",
    ),
    (
        with_member(notifications={"activation_boss": {}}),
        "member.notifications: unknown key(s) activation_boss",
    ),
    (
        with_member(notifications={"activation_admin": {"level": "Loud"}}),
        "'Loud' is not one of None, Critical, All",
    ),
    (
        with_member(notifications={"activation_admin": {"recipients": ["not-mail"]}}),
        "'not-mail' is not an e-mail",
    ),
]


@pytest.mark.parametrize(("data", "message"), REFUSALS)
def test_invalid_profiles_are_refused_with_a_message_naming_the_field(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile_set(data)
    assert message in str(error.value)
    if "member." in message:
        assert str(error.value).startswith("profile 'p': member.")


@pytest.mark.parametrize(
    ("top_level", "message"),
    [
        ({"protected_roles": "some"}, "protected_roles: must be"),
        ({"exclusive": 1}, "exclusive: must be true or false"),
        (
            {"owner": {"activation": {"maximum": "PT12H"}}},
            "profile 'p': owner.activation.maximum: PT12H is out of range",
        ),
    ],
)
def test_profile_level_fields_are_validated(top_level: dict[str, Any], message: str) -> None:
    data = base()
    data["profiles"]["p"].update(top_level)
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_profile_set(data)


def test_equivalent_durations_are_stored_canonically() -> None:
    profile = parse_profile_set(with_activation(maximum="PT0H30M")).get("p")
    assert profile.member.activation_maximum == "PT30M"


def test_role_selector_by_name() -> None:
    data = base()
    data["profiles"]["p"]["protected_roles"] = ["SeniorAnalyst"]
    selector = parse_profile_set(data).get("p").protected_roles
    assert (selector.mode, selector.names) == (RoleSelection.NAMED, ("SeniorAnalyst",))


def test_fingerprint_is_stable_and_changes_with_any_setting() -> None:
    first = parse_profile_set(base()).get("p")
    again = parse_profile_set(copy.deepcopy(base())).get("p")
    changed = parse_profile_set(with_activation(require_justification=False)).get("p")
    assert profile_fingerprint(first) == profile_fingerprint(again)
    assert profile_fingerprint(first) != profile_fingerprint(changed)
    assert len({profile_fingerprint(p) for p in load_profiles().profiles.values()}) == 4

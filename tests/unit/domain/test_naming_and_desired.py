"""Group naming (limits, unicode, collisions, renames), durations, and building the desired state."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shared.domain.durations import format_duration, parse_duration, same_duration
from shared.domain.ids import DEFAULT_APP_ROLE_ID, AppId, AppRoleId
from shared.domain.model import AppRole
from shared.domain.naming import NamingTemplates, group_identity, unique_name
from shared.domain.profiles import RoleSelection, RoleSelector

from .builders import (
    ALICE,
    APP_ID,
    BOB,
    NOW,
    ROLE_ADMIN,
    ROLE_ANALYST,
    analyst_role,
    desired_app,
    grant,
    profile,
)
from .builders import service_principal as sp

FORBIDDEN_IN_NICKNAME = set('@()\\[]";:<>, .')


def test_default_template_is_microsofts_recommendation() -> None:
    identity = group_identity("FinReport", APP_ID, ROLE_ANALYST, "SeniorAnalyst")
    assert identity.display_name == "FinReport-SeniorAnalyst-SecureAccess"
    assert identity.mail_nickname == "FinReport-SeniorAnalyst-SecureAccess"
    assert "PIM Warden" in identity.description and "FinReport" in identity.description


@pytest.mark.parametrize(
    "app_name",
    [
        "Façade (Prod): Élan; v2.0",
        "日本語アプリ",
        "a" * 400,
        '@@@ "[]" <>',
        "tab\tand\nnewline",
        "  ",
        "x.y.z",
    ],
)
def test_names_respect_graph_limits_whatever_the_app_is_called(app_name: str) -> None:
    identity = group_identity(app_name, APP_ID, ROLE_ANALYST, "Senior Analyst")
    assert 0 < len(identity.display_name) <= 256 and "\n" not in identity.display_name
    nickname = identity.mail_nickname
    assert 0 < len(nickname) <= 64 and nickname.isascii()
    assert not FORBIDDEN_IN_NICKNAME & set(nickname)
    assert nickname.isprintable()


def test_unicode_is_kept_in_display_names_and_transliterated_in_nicknames() -> None:
    identity = group_identity("Café Übersicht", APP_ID, ROLE_ANALYST, "Leser")
    assert identity.display_name == "Café Übersicht-Leser-SecureAccess"
    assert identity.mail_nickname == "Cafe-Ubersicht-Leser-SecureAccess"


def test_two_apps_with_one_display_name_get_different_unique_names() -> None:
    first = group_identity("Payroll", AppId("a1"), ROLE_ANALYST, "User")
    second = group_identity("Payroll", AppId("a2"), ROLE_ANALYST, "User")
    assert first.display_name == second.display_name
    assert first.unique_name != second.unique_name


def test_renamed_app_keeps_its_unique_name() -> None:
    before = group_identity("Payroll", APP_ID, ROLE_ANALYST, "User")
    after = group_identity("Payroll (new)", APP_ID, ROLE_ANALYST, "User")
    assert before.unique_name == after.unique_name != ""
    assert before.display_name != after.display_name


def test_unique_name_is_derived_from_immutable_ids_only() -> None:
    assert unique_name(AppId("ABC-1"), AppRoleId("R-2")) == "pimwarden-abc-1-r-2"
    assert unique_name(APP_ID, ROLE_ANALYST) != unique_name(APP_ID, ROLE_ADMIN)


def test_templates_are_configurable_and_can_tell_same_named_apps_apart() -> None:
    templates = NamingTemplates(
        display_name="PIM {app} {role} ({short_id})", mail_nickname="pim-{short_id}-{role}"
    )
    identity = group_identity("Payroll", APP_ID, DEFAULT_APP_ROLE_ID, None, templates)
    assert identity.display_name == f"PIM Payroll User ({APP_ID[:8]})"
    assert identity.mail_nickname == f"pim-{APP_ID[:8]}-User"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT30M", 1800),
        ("PT0H30M", 1800),
        ("P180D", 180 * 86400),
        ("P1DT2H", 93600),
        ("PT8H", 28800),
        ("pt15m", 900),
    ],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "P1M", "P1Y", "30m", "PT-5M", "1:00:00"])
def test_non_iso_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_duration(text)


def test_durations_format_canonically_and_compare_by_length() -> None:
    assert [format_duration(timedelta(minutes=m)) for m in (30, 480, 1500)] == ["PT30M", "PT8H", "P1DT1H"]
    assert same_duration("PT30M", "PT0H30M") and not same_duration("PT30M", "PT31M")
    assert not same_duration("PT30M", "0:30:00")


def test_protected_roles_all_skips_roles_users_cannot_hold() -> None:
    app_only = AppRole(ROLE_ADMIN, "Admin", "Admin", frozenset({"Application"}))
    desired = desired_app(
        sp=sp(analyst_role(), app_only, AppRole(AppRoleId("r3"), "Old", "Old", is_enabled=False))
    )
    assert [r.app_role_id for r in desired.roles] == [ROLE_ANALYST]


def test_protected_roles_by_name_reports_unknown_names() -> None:
    named = profile(protected_roles=RoleSelector(RoleSelection.NAMED, ("SeniorAnalyst", "Ghost")))
    desired = desired_app(prof=named)
    assert [r.role_name for r in desired.roles] == ["SeniorAnalyst"]
    assert any("'Ghost'" in note for note in desired.notes)


def test_default_selector_protects_default_access_only_for_apps_without_roles() -> None:
    default = profile(protected_roles=RoleSelector(RoleSelection.DEFAULT))
    assert [r.app_role_id for r in desired_app(sp=sp(), prof=default).roles] == [DEFAULT_APP_ROLE_ID]
    with_roles = desired_app(prof=default)
    assert with_roles.roles == () and with_roles.notes


def eligibility_of(desired_grants: tuple, **options: object):  # type: ignore[no-untyped-def]
    (role,) = desired_app(grants=desired_grants, **options).roles
    return role.eligibilities


def test_latest_end_wins_and_justification_comes_from_that_grant() -> None:
    grants = (
        grant(ALICE, grant_id="a", ends=timedelta(days=2), justification="short"),
        grant(ALICE, grant_id="b", ends=timedelta(days=9), justification="long"),
    )
    (merged,) = eligibility_of(grants)
    assert (merged.end, merged.justification, merged.grant_ids) == (
        NOW + timedelta(days=9),
        "long",
        ("a", "b"),
    )


def test_permanent_grant_is_capped_unless_the_profile_allows_permanent() -> None:
    permanent = (grant(ALICE, ends=None),)
    (capped,) = eligibility_of(permanent)
    assert capped.end == permanent[0].starts + timedelta(days=180)
    allowing = profile()
    allowing = replace(
        allowing,
        member=replace(
            allowing.member, eligibility=replace(allowing.member.eligibility, allow_permanent=True)
        ),
    )
    (merged,) = eligibility_of(permanent, prof=allowing)
    assert merged.end is None


def test_grants_are_capped_at_the_profile_maximum_from_their_own_start() -> None:
    old = grant(ALICE, grant_id="old", starts=NOW - timedelta(days=200), ends=timedelta(days=30))
    desired = desired_app(grants=(old, grant(BOB, ends=timedelta(days=400))))
    (bob,) = desired.roles[0].eligibilities
    assert bob.principal_id == BOB and bob.end == NOW - timedelta(hours=1) + timedelta(days=180)
    assert any("grant old is past the profile's maximum" in note for note in desired.notes)


def test_revoked_expired_and_future_grants_are_not_open() -> None:
    grants = (
        grant(ALICE, grant_id="r", revoked_at=NOW - timedelta(seconds=1)),
        grant(ALICE, grant_id="e", ends=NOW),
        grant(BOB, grant_id="f", starts=NOW + timedelta(hours=1)),
    )
    assert eligibility_of(grants) == ()


def test_grants_for_unprotected_roles_are_noted() -> None:
    desired = desired_app(grants=(grant(ALICE, ROLE_ADMIN),))
    assert desired.roles[0].eligibilities == () and any("does not protect" in n for n in desired.notes)

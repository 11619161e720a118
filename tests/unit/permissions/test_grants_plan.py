"""The grant plan: what to add, what is there, what is held but not needed (never removed)."""

from __future__ import annotations

from shared.permissions.grants import HeldRole, plan_grants, removal_hint
from shared.permissions.manifest import Option, load_manifest

MANIFEST = load_manifest()


def held(*names: str) -> list[HeldRole]:
    return [HeldRole(f"a-{n}", MANIFEST.by_name(n).app_role_id.upper(), n) for n in names]


def test_nothing_held_everything_always_needed_is_added() -> None:
    plan = plan_grants(MANIFEST, frozenset(), [])
    assert plan.to_add == MANIFEST.always() and plan.present == () and not plan.exact


def test_held_ids_match_case_insensitively_and_the_rest_is_added() -> None:
    plan = plan_grants(MANIFEST, frozenset(), held("Directory.Read.All", "AuditLog.Read.All"))
    assert {p.name for p in plan.present} == {"Directory.Read.All", "AuditLog.Read.All"}
    assert len(plan.to_add) == len(MANIFEST.always()) - 2


def test_an_optional_role_held_without_its_option_is_superfluous_and_needed_with_it() -> None:
    everything = [p.name for p in MANIFEST.permissions]
    without = plan_grants(MANIFEST, frozenset(), held(*everything))
    assert {r.name for r in without.superfluous} == {
        "CustomSecAttributeAssignment.Read.All",
        "RoleManagement.ReadWrite.Directory",
    }
    assert plan_grants(MANIFEST, frozenset(Option), held(*everything)).exact


def test_an_unknown_role_is_superfluous_with_its_removal_command() -> None:
    stranger = HeldRole("assignment-1", "bf7b1a76-6e77-406b-b258-bf5c7720e98f", "Group.Create")
    plan = plan_grants(MANIFEST, frozenset(), [*held(*(p.name for p in MANIFEST.always())), stranger])
    assert plan.to_add == () and plan.superfluous == (stranger,)
    assert removal_hint("graph-sp", stranger).endswith(
        "/servicePrincipals/graph-sp/appRoleAssignedTo/assignment-1"
    )

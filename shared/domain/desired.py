"""Builds the desired state of one app from its service principal, its profile and the stored grants.

Which app roles get a group follows the profile's selector. Each principal's eligibility is the union
of their open grants: the latest end wins; permanent only if a grant is permanent and the profile
allows it; and every grant is capped at the profile's maximum counted from the grant's own start, so a
long need is met by a new grant (a fresh decision), never by silently stretching an old one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from shared.domain.durations import parse_duration
from shared.domain.ids import DEFAULT_APP_ROLE_ID, AppRoleId, PrincipalId
from shared.domain.model import (
    DesiredApp,
    DesiredEligibility,
    DesiredRole,
    EligibilityGrant,
    ServicePrincipal,
)
from shared.domain.naming import DEFAULT_TEMPLATES, NamingTemplates, group_identity, role_word
from shared.domain.profiles import Expiry, Profile, RoleSelection
from shared.domain.rules import desired_rules


def build_desired_app(
    service_principal: ServicePrincipal,
    profile: Profile,
    grants: Iterable[EligibilityGrant],
    now: datetime,
    *,
    templates: NamingTemplates = DEFAULT_TEMPLATES,
    protected_principals: frozenset[PrincipalId] = frozenset(),
    trusted_owners: frozenset[PrincipalId] = frozenset(),
    in_scope: bool = True,
) -> DesiredApp:
    """The desired state of one app at `now`."""
    selected, notes = protected_roles(service_principal, profile)
    by_role: dict[AppRoleId, list[EligibilityGrant]] = defaultdict(list)
    for grant in grants:
        by_role[grant.app_role_id].append(grant)
    roles = []
    for role_id, word in selected:
        eligibilities, grant_notes = merge_grants(by_role.pop(role_id, []), profile.member.eligibility, now)
        identity = group_identity(
            service_principal.display_name, service_principal.app_id, role_id, word, templates
        )
        roles.append(DesiredRole(role_id, word, identity, eligibilities))
        notes += grant_notes
    notes += [
        f"grant {g.grant_id} names app role {g.app_role_id}, which this app's profile does not protect"
        for role_grants in by_role.values()
        for g in role_grants
        if g.is_open_at(now)
    ]
    return DesiredApp(
        service_principal_id=service_principal.id,
        app_id=service_principal.app_id,
        profile=profile,
        roles=tuple(roles),
        member_rules=desired_rules(profile.member),
        owner_rules=desired_rules(profile.owner),
        in_scope=in_scope,
        protected_principals=protected_principals,
        trusted_owners=trusted_owners,
        notes=tuple(notes),
    )


def protected_roles(sp: ServicePrincipal, profile: Profile) -> tuple[list[tuple[AppRoleId, str]], list[str]]:
    """(app role id, role word) for each role the profile protects, plus notes on what was skipped."""
    assignable = sorted(
        (r for r in sp.app_roles if r.is_enabled and "User" in r.allowed_member_types),
        key=lambda r: str(r.id),
    )
    if sp.app_roles and not assignable:
        # Graph takes Default Access only for an app that declares no app roles (appRoleAssignment:
        # "If the resource application has not declared any app roles ..."), and users and groups
        # cannot hold app roles made for applications: there is no user access here to guard.
        return [], [
            "the app declares app roles, none of them enabled for users and groups: no user access to "
            "guard, nothing protected (Graph refuses Default Access for an app that declares app roles)"
        ]
    default = [(DEFAULT_APP_ROLE_ID, role_word(DEFAULT_APP_ROLE_ID, None, None))]
    selector = profile.protected_roles
    if selector.mode is RoleSelection.DEFAULT:
        if assignable:
            return [], [
                "the profile protects Default Access only, but this app declares app roles: nothing protected"
            ]
        return default, []
    if selector.mode is RoleSelection.ALL:
        return ([(r.id, role_word(r.id, r.value, r.display_name)) for r in assignable] or default), []
    chosen = [
        (r.id, role_word(r.id, r.value, r.display_name)) for r in assignable if r.value in selector.names
    ]
    known = {r.value for r in assignable}
    missing = [
        f"the profile names app role {name!r}, which this app does not declare"
        for name in selector.names
        if name not in known
    ]
    return chosen, missing


def merge_grants(
    grants: Iterable[EligibilityGrant],
    expiry: Expiry,
    now: datetime,
) -> tuple[tuple[DesiredEligibility, ...], list[str]]:
    """One desired eligibility per principal from their open grants, and notes on capped grants."""
    maximum = parse_duration(expiry.maximum)
    by_principal: dict[PrincipalId, list[tuple[datetime | None, EligibilityGrant]]] = defaultdict(list)
    notes = []
    for grant in sorted(grants, key=lambda g: str(g.grant_id)):
        if not grant.is_open_at(now):
            continue
        cap = grant.starts + maximum
        end = None if grant.ends is None and expiry.allow_permanent else min(grant.ends or cap, cap)
        if end is not None and end <= now:
            notes.append(
                f"grant {grant.grant_id} is past the profile's maximum eligibility "
                f"({expiry.maximum}); a new grant is needed"
            )
            continue
        by_principal[grant.principal_id].append((end, grant))
    merged = tuple(_union(principal, items) for principal, items in sorted(by_principal.items()))
    return merged, notes


def _union(
    principal: PrincipalId, items: list[tuple[datetime | None, EligibilityGrant]]
) -> DesiredEligibility:
    # Latest end wins (None = permanent is the latest); ties go to the grant id, for determinism.
    end, lead = max(
        items, key=lambda item: (item[0] is None, item[0] or item[1].starts, str(item[1].grant_id))
    )
    return DesiredEligibility(
        principal_id=principal,
        start=min(grant.starts for _, grant in items),
        end=end,
        justification=lead.justification,
        ticket=lead.ticket,
        grant_ids=tuple(sorted(grant.grant_id for _, grant in items)),
    )

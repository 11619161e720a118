"""Small builders for domain tests: a clock instant, service principals, grants and profiles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.domain.desired import build_desired_app
from shared.domain.ids import AppId, AppRoleId, GrantId, PrincipalId, ServicePrincipalId
from shared.domain.model import (
    AppRole,
    DesiredApp,
    EligibilityGrant,
    ObservedApp,
    ServicePrincipal,
    TicketInfo,
)
from shared.domain.profiles import Profile, load_profiles

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SP_ID = ServicePrincipalId("5p000000-0000-0000-0000-000000000001")
APP_ID = AppId("a0000000-0000-0000-0000-0000000000aa")
ROLE_ANALYST = AppRoleId("11111111-1111-1111-1111-111111111111")
ROLE_ADMIN = AppRoleId("22222222-2222-2222-2222-222222222222")
ALICE = PrincipalId("u-alice")
BOB = PrincipalId("u-bob")
MALLORY = PrincipalId("u-mallory")
BREAK_GLASS = PrincipalId("u-breakglass")
PROFILES = load_profiles()


def profile(name: str = "standard", **changes: object) -> Profile:
    """A shipped profile, optionally with top-level fields replaced."""
    return replace(PROFILES.get(name), **changes)  # type: ignore[arg-type]


def service_principal(*roles: AppRole, required: bool = False, name: str = "FinReport") -> ServicePrincipal:
    """A service principal with the given app roles."""
    return ServicePrincipal(
        id=SP_ID, app_id=APP_ID, display_name=name, app_roles=roles, app_role_assignment_required=required
    )


def analyst_role() -> AppRole:
    """An app role assignable to users."""
    return AppRole(id=ROLE_ANALYST, value="SeniorAnalyst", display_name="Senior analyst")


def grant(
    principal: PrincipalId,
    role: AppRoleId = ROLE_ANALYST,
    *,
    grant_id: str | None = None,
    starts: datetime | None = None,
    ends: datetime | timedelta | None = timedelta(days=7),
    revoked_at: datetime | None = None,
    justification: str = "quarter close",
) -> EligibilityGrant:
    """An eligibility grant starting an hour ago (ends given as an absolute time or an offset from NOW)."""
    end = NOW + ends if isinstance(ends, timedelta) else ends
    return EligibilityGrant(
        grant_id=GrantId(grant_id or f"g-{principal}"),
        principal_id=principal,
        app_role_id=role,
        starts=starts or NOW - timedelta(hours=1),
        ends=end,
        justification=justification,
        ticket=TicketInfo("ServiceNow", "CHG0001"),
        revoked_at=revoked_at,
    )


def desired_app(
    sp: ServicePrincipal | None = None,
    prof: Profile | None = None,
    grants: tuple[EligibilityGrant, ...] = (),
    **options: object,
) -> DesiredApp:
    """The desired state for a service principal (FinReport with one role by default)."""
    return build_desired_app(
        sp or service_principal(analyst_role()),
        prof or profile(),
        grants,
        NOW,
        **options,  # type: ignore[arg-type]
    )


def empty_observed(sp: ServicePrincipal | None = None) -> ObservedApp:
    """An app that has never been onboarded."""
    sp = sp or service_principal(analyst_role())
    return ObservedApp(service_principal_id=sp.id, service_principal=sp)

"""Business rules a ticket must pass before anything is recorded (answered 422, or 403 for the source).

A webhook may only act on apps PIM Warden manages; it only ever asks for *eligible* membership; the
duration is capped by the app's profile (asking for more is refused, not silently shortened, so the
ticket system learns the limit); the principal must be an enabled user of the allowed kinds (guests
only when configured); protected principals (break-glass accounts) are never made eligible (a revoke
is always accepted); only apps PIM Warden may manage at all are registered; registering or
deregistering apps is reserved to the sources allowed to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.api.answers import Refusal, permission_missing, unavailable
from shared.api.wiring import ApiServices
from shared.domain.durations import parse_duration
from shared.domain.manageable import manageability
from shared.domain.model import ServicePrincipal
from shared.domain.profiles import Profile, ProfileError
from shared.engine.ports import DirectoryUser
from shared.engine.unmanageable import refusal_event
from shared.graph.errors import GraphError, NotFoundError, PermissionMissingError
from shared.storage import DEFAULT_APP_ROLE_ID, AppStatus, UnreadableRecordError
from shared.tickets.formats import is_guid


@dataclass(frozen=True)
class ManagedTarget:
    """An app PIM Warden manages: its profile and (once onboarded) its role -> group map."""

    app_id: str
    profile: Profile
    role_groups: Mapping[str, str]


async def resolve_app(api: ApiServices, app: str) -> str:
    """The service principal object id for `app`, given as that id or as the application (client) id.

    An id PIM Warden already knows is taken as it is; otherwise the directory is asked whether it is an
    appId. Anything else comes back unchanged (and is refused by the caller)."""
    app = app.lower()
    if not is_guid(app):
        return app
    store = api.engine.store
    if await store.apps.exists(app) or await store.registrations.find(app) is not None:
        return app
    sp = await api.engine.graph.find_service_principal_by_app_id(app)
    return str(sp.id).lower() if sp is not None else app


async def revocable_app(api: ApiServices, app: str) -> str:
    """The service principal object id a revoke names, whatever PIM Warden thinks of the app now.

    Releasing access is always safe, so a close is never refused for the app's state (in error, out of
    scope, refused, unreadable): the close is remembered and its grants are closed either way."""
    if not is_guid(app):
        raise Refusal(422, "app_not_managed", "name the app by its service principal object id or appId")
    return (await resolve_app(api, app)).lower()


async def managed_app(api: ApiServices, app: str) -> ManagedTarget:
    """The managed app `app` (service principal object id or appId); 422 app_not_managed otherwise."""
    if not is_guid(app):
        raise Refusal(422, "app_not_managed", "name the app by its service principal object id or appId")
    app = await resolve_app(api, app)
    store = api.engine.store
    try:
        record = await store.apps.find(app.lower())
    except UnreadableRecordError as error:
        raise Refusal(409, "app_state_unreadable",
                      f"PIM Warden cannot read its record of this app (property {error.property})") from None
    registration = await store.registrations.find(app.lower())
    if record is not None and record.status is AppStatus.REFUSED:
        raise Refusal(422, "app_not_manageable", record.last_error or "PIM Warden never manages this app")
    managed = record is not None and record.in_scope and record.status is AppStatus.MANAGED
    if registration is None and not managed:
        raise Refusal(422, "app_not_managed", "PIM Warden does not manage this app")
    name = registration.profile if registration else (record.profile if record else None)
    return ManagedTarget(app.lower(), profile_named(api, name), dict(record.role_groups) if record else {})


async def manageable(api: ApiServices, sp: ServicePrincipal, by: str, now: datetime) -> None:
    """422 with the reason's code (audited) when PIM Warden may never manage `sp` (domain.manageable)."""
    refused = manageability(sp, api.engine.config.own_service_principals)
    if refused is None:
        return
    await api.engine.store.audit.append(
        refusal_event(str(sp.id).lower(), refused, by, now, "RegistrationRefused")
    )
    raise Refusal(422, refused.code.value, refused.message)


def profile_named(api: ApiServices, name: str | None) -> Profile:
    """The profile `name`; 422 unknown_profile when the profile file has none by that name."""
    try:
        return api.engine.profiles.get(name)
    except ProfileError as error:
        raise Refusal(422, "unknown_profile", str(error)) from None


async def allowed_user(api: ApiServices, user: str) -> DirectoryUser:
    """The enabled directory user `user` (object id or UPN) of an allowed kind; 422 otherwise."""
    try:
        found = await api.engine.graph.get_user(user)
    except NotFoundError:
        found = None
    except PermissionMissingError as error:
        raise permission_missing(error) from error
    except GraphError as error:
        raise unavailable("directory_unavailable", type(error).__name__) from error
    if found is None:
        raise Refusal(422, "principal_not_found", "no such user in the directory")
    if not found.account_enabled:
        raise Refusal(422, "principal_disabled", "the user's account is disabled")
    kind = user_kind(found)
    if kind != "member" and not (kind == "guest" and api.config.allow_guests):
        raise Refusal(422, "principal_not_allowed", f"users of kind {kind} are not allowed")
    return found


def user_kind(user: DirectoryUser) -> str:
    """member, guest or unknown. An external (#EXT#) account is a guest whatever its userType says;
    a userType Graph did not give (null) is unknown, which no setting allows."""
    kind = user.user_type.strip().lower()
    if kind not in ("member", "guest"):
        return "unknown"
    return "guest" if "#ext#" in user.user_principal_name.lower() else kind


def not_protected(api: ApiServices, *names: str | None) -> None:
    """422 protected_principal when any of `names` (object id, UPN) is a protected principal: a grant
    would make a break-glass account eligible, which is not its kind of access (revoking stays allowed)."""
    protected = {p.lower() for p in api.engine.config.protected_principals}
    if any(n and n.lower() in protected for n in names):
        raise Refusal(422, "protected_principal", "protected principals are never made eligible by tickets")


def source_may_register(api: ApiServices, source: str) -> None:
    """403 source_not_allowed unless `source` is listed in PIMWARDEN_TICKETS_REGISTER_SOURCES."""
    if source not in api.config.register_sources:
        raise Refusal(403, "source_not_allowed", f"source {source!r} may not register or deregister apps")


def eligibility_window(
    profile: Profile, duration: timedelta | None, starts: datetime | None, now: datetime
) -> tuple[datetime, datetime | None]:
    """(start, end) of the eligibility; end None only where the profile allows no expiry."""
    expiry = profile.member.eligibility
    maximum = parse_duration(expiry.maximum)
    if starts is not None and abs(starts - now) > maximum:
        # A start further away than the profile's longest eligibility is a mistake either way (a year
        # typo, a stale record); it also keeps every later date arithmetic inside datetime's range.
        raise Refusal(
            422,
            "starts_out_of_range",
            f"/starts must be within {expiry.maximum} of now (profile {profile.name!r})",
            errors=[{"path": "/starts", "message": f"must be within {expiry.maximum} of now"}],
        )
    start = max(starts or now, now)
    if duration is None:
        return start, None if expiry.allow_permanent else start + maximum
    if duration > maximum:
        raise Refusal(
            422,
            "duration_exceeds_profile",
            f"profile {profile.name!r} allows eligibility of at most {expiry.maximum}",
        )
    return start, start + duration


def app_role(target: ManagedTarget, requested: str | None) -> str:
    """The app role to grant: the requested one if protected, else the only (or default) one."""
    roles = set(target.role_groups)
    if requested:
        if roles and requested.lower() not in roles:
            raise Refusal(422, "app_role_not_protected", "the app's profile does not protect this app role")
        return requested.lower()
    if not roles or DEFAULT_APP_ROLE_ID in roles:
        return DEFAULT_APP_ROLE_ID
    if len(roles) == 1:
        return next(iter(roles))
    raise Refusal(422, "app_role_required", "the app protects several app roles: name one (appRole)")

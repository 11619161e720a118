"""The operator CLI keeps the same rules as the webhooks: it never registers an app PIM Warden may not
manage (audited), and never makes a protected principal eligible."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from graphsim.app import GraphSim
from shared.cli import main as cli
from shared.engine.services import Services

from .simenv import app_by_name

BREAKGLASS = "ec1b8ca1-f91e-4d4c-9ff4-9b7889463e85"


async def run(services: Services, *argv: str) -> int:
    args = cli.parser().parse_args(["--as", "olga", *argv])
    return await cli.COMMANDS[args.command](services, args)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Office 365 Exchange Online", "microsoft_first_party_app"),
        ("payroll-sync-identity", "managed_identity"),
    ],
)
async def test_register_refuses_what_may_never_be_managed(
    sim: GraphSim, services: Services, name: str, code: str
) -> None:
    app = app_by_name(sim, name)["id"]
    with pytest.raises(cli.UsageError, match=code):
        await run(services, "register", "--app", app, "--profile", "strict")
    assert await services.store.registrations.list() == []
    now = services.clock.now()
    events = await services.store.audit.query(app, now - timedelta(days=1), now + timedelta(days=1))
    assert [(e.action, e.cause) for e in events] == [("RegistrationRefused", "operator:olga")]


async def test_grant_refuses_a_protected_principal(sim: GraphSim, services: Services) -> None:
    app = app_by_name(sim, "FinReport SQL")["id"]
    guarded = replace(services, config=replace(services.config, protected_principals=frozenset({BREAKGLASS})))
    for user in (BREAKGLASS, "breakglass@contoso.onmicrosoft.com"):
        with pytest.raises(cli.UsageError, match="protected_principal"):
            await run(guarded, "grant", "--app", app, "--user", user, "--for", "P1D", "--justification", "x")
    assert await services.store.grants.list_open(app) == []


@pytest.mark.parametrize(
    ("user", "extra", "code"),
    [
        ("ada@contoso.onmicrosoft.com", ["--for", "P3650D"], "duration_exceeds_profile"),
        ("ada@contoso.onmicrosoft.com", ["--until", "9999-12-31T23:59:59+00:00"], "duration_exceeds_profile"),
        ("ada@contoso.onmicrosoft.com", ["--until", "0001-01-01T00:00:00+14:00"], "not a usable date-time"),
        ("gus_fabrikam.com#EXT#@contoso.onmicrosoft.com", ["--for", "P1D"], "principal_not_allowed"),
    ],
)
async def test_grant_keeps_the_ticket_bounds(
    sim: GraphSim, services: Services, user: str, extra: list[str], code: str
) -> None:
    # The CLI records grants as tickets do: the profile caps the length, guests and odd dates refused
    from shared.engine.run import enforce

    await enforce(services, "timer")
    app = app_by_name(sim, "FinReport SQL")["id"]
    with pytest.raises(cli.UsageError, match=code):
        await run(services, "grant", "--app", app, "--user", user, *extra, "--justification", "x")
    assert await services.store.grants.list_open(app) == []


async def test_grant_refuses_an_app_it_does_not_manage(sim: GraphSim, services: Services) -> None:
    app = app_by_name(sim, "Office 365 Exchange Online")["id"]
    with pytest.raises(cli.UsageError, match="app_not_managed"):
        await run(services, "grant", "--app", app, "--user", "ada@contoso.onmicrosoft.com", "--for", "P1D",
                  "--justification", "x")

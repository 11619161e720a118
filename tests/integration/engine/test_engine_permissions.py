"""PIM Warden with exactly the permission manifest, on graphsim enforcing Graph's documented permissions.

With every always-needed permission the features work; with one removed, a feature that needs it fails
with an error naming it: in the run summary, the app's record and the health record for enforcement,
in the collector's answer for compliance, in a 503 `permission_missing` for ticket intake. Never a
silent skip. With an attribute selector and no CustomSecAttributeAssignment.Read.All, Graph hides the
attributes (null) and the run warns instead of silently matching nothing.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from graphsim.testing import asgi_transport
from shared.api.answers import Refusal
from shared.api.guardrails import allowed_user
from shared.compliance.collector import collect
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.graph.compliance_reads import ComplianceReads
from shared.graph.errors import PermissionMissingError
from shared.permissions.manifest import load_manifest
from shared.permissions.status import load as load_status
from shared.storage import AppStatus, StateStore
from tests.integration.test_compliance_collect import CONFIG, Env, make_env

from .simenv import demo_sim, gateway_for, make_services

pytestmark = pytest.mark.azurite
ALWAYS = [p.name for p in load_manifest().always()]
ADA = "ada@contoso.onmicrosoft.com"


async def enforcement(services: Services, env: Env) -> set[str]:
    """A cold run, then a tick after a change: the permissions their refusals name, checked to be loud."""
    named: set[str] = set()
    for _ in range(2):
        summary = await enforce(services, "timer")
        named |= set(summary.missing_permissions)
        for name in summary.missing_permissions:
            assert "missing_permissions=" in summary.line() and name in summary.line()
        await env.advance("PT10M")
    if named:
        status = await load_status(services.store.cursors)
        assert status is not None and not status.ok and set(status.missing) >= named, status
    for record in await services.store.apps.list():
        if record.last_error and record.last_error.startswith("permission missing"):
            assert record.status is AppStatus.ERROR
            assert any(name in record.last_error for name in named)
    return named


async def compliance(env: Env, without: str) -> set[str]:
    reads = ComplianceReads.sharing(gateway_for(asgi_transport(env.sim), without=(without,)))
    try:
        summary = await collect(reads, env.events, env.store, env.now, CONFIG)
    except PermissionMissingError as error:
        return set(error.permissions)
    return {name for app in summary.failed for name in ALWAYS if name in (app.error or "")}


async def tickets(services: Services) -> set[str]:
    api = SimpleNamespace(engine=services, config=SimpleNamespace(allow_guests=False))
    try:
        await allowed_user(api, ADA)  # type: ignore[arg-type]  # the two attributes it reads
    except Refusal as refusal:
        assert refusal.status == 503 and refusal.error_code == "permission_missing", refusal
        return {name for name in ALWAYS if name in refusal.message}
    return set()


@pytest.mark.parametrize("permission", ALWAYS)
async def test_without_one_always_needed_permission_the_feature_needing_it_fails_naming_it(
    permission: str, state_store: StateStore, azurite: str
) -> None:
    env = await make_env(demo_sim(), state_store)
    try:
        found = {"compliance": await compliance(env, permission)}
        services = make_services(
            env.sim, state_store, azurite, graph=gateway_for(asgi_transport(env.sim), without=(permission,))
        )
        found["enforcement"] = await enforcement(services, env)
        found["tickets"] = await tickets(services)
    finally:
        await env.events.drop()
        await env.http.aclose()
    failing = {feature for feature, names in found.items() if permission in names}
    assert failing, f"nothing failed without {permission}: it is not needed ({found})"
    manifest_features = set(load_manifest().by_name(permission).features) | {"enforcement"}
    assert failing <= manifest_features | {"discovery"}, (failing, manifest_features)


async def test_with_exactly_the_manifest_every_feature_works(state_store: StateStore, azurite: str) -> None:
    env = await make_env(demo_sim(), state_store)
    try:
        assert await compliance(env, "none") == set()
        services = make_services(env.sim, state_store, azurite)
        assert await enforcement(services, env) == set()
        assert await tickets(services) == set()
        assert await load_status(services.store.cursors) is None
    finally:
        await env.events.drop()
        await env.http.aclose()


async def test_attribute_selector_without_its_permission_warns_instead_of_matching_nothing(
    state_store: StateStore, azurite: str
) -> None:
    sim = demo_sim()
    services = make_services(sim, state_store, azurite, graph=gateway_for(
        asgi_transport(sim), without=("CustomSecAttributeAssignment.Read.All",)
    ))
    summary = await enforce(services, "timer")
    [warning] = summary.warnings
    assert "CustomSecAttributeAssignment.Read.All is probably missing" in warning
    assert "warning=" in summary.line()
    status = await load_status(services.store.cursors)
    assert status is not None and status.warnings == (warning,) and not status.ok
    clinical = next(sp for sp in sim.tenant.service_principals.values()
                    if sp["displayName"] == "Clinical Records Share")
    assert clinical["id"] not in {r.service_principal_id for r in summary.results}  # hidden: not selected

    granted = replace(services, graph=gateway_for(asgi_transport(sim)))
    full = await enforce(granted, "timer", full=True)
    assert full.warnings == [] and clinical["id"] in {r.service_principal_id for r in full.results}
    assert await load_status(services.store.cursors) is None  # a clean full round clears the record

"""One preflight run: settings, storage, queue, budget, webhook sources, token, permissions, probes.

Checks that need something an earlier check found broken are skipped with the reason, so one root
cause shows once. The credential is the deployment's own (managed identity in Azure) unless a caller
passes one (tests, the demo).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import httpx
from azure.core.credentials_async import AsyncTokenCredential

from shared.doctor import checks as pure
from shared.doctor import probes
from shared.doctor.results import Check, Report, Status
from shared.permissions.claims import TokenFormatError, read_claims
from shared.permissions.manifest import Manifest, load_manifest
from shared.settings import Settings


async def run_doctor(
    env: Mapping[str, str],
    *,
    credential: AsyncTokenCredential | None = None,
    host_json: Path = pure.HOST_JSON,
    transport: httpx.AsyncBaseTransport | None = None,
    manifest: Manifest | None = None,
) -> Report:
    """Run every check against the deployment `env` describes."""
    settings_result, config = pure.settings_check(env)
    if config is None:
        return Report((settings_result, Check("everything else", Status.SKIP, "needs valid settings")))
    settings = config.settings
    found = [settings_result, *_budget(settings.run_budget_seconds, host_json, env)]
    storage_credential = _storage_credential(settings)
    try:
        found.append(await probes.storage_check(settings, storage_credential))
        found.append(await probes.queue_check(settings, storage_credential))
        if found[-2].status is Status.PASS:
            in_use = await probes.profiles_in_use(settings, storage_credential)
            config = replace(config, options=config.with_profiles_in_use(in_use))
    finally:
        if storage_credential is not None:
            await storage_credential.close()
    found.extend(pure.webhook_checks(config.api.sources))
    found.extend(await _graph(config, credential, transport, manifest or load_manifest()))
    return Report(tuple(found))


def _budget(budget: int, host_json: Path, env: Mapping[str, str]) -> list[Check]:
    try:
        timeout, source = pure.host_function_timeout(host_json, env)
    except ValueError as error:
        return [Check("run budget", Status.FAIL, str(error), "correct functionTimeout (hh:mm:ss)")]
    return [pure.budget_check(budget, timeout, source)]


def _storage_credential(settings: Settings) -> AsyncTokenCredential | None:
    from shared.credentials import build_storage_credential

    return None if settings.storage.uses_connection_string else build_storage_credential(settings)


async def _graph(
    config: pure.Configuration,
    credential: AsyncTokenCredential | None,
    transport: httpx.AsyncBaseTransport | None,
    manifest: Manifest,
) -> list[Check]:
    from shared.credentials import build_credential
    from shared.url_rules import graph_scope

    own = credential is None
    credential = credential or build_credential(config.settings)
    try:
        scope = graph_scope(config.settings.graph_base_url)
        token_result, token = await probes.token_check(credential, scope)
        if token is None:
            return [token_result, Check("permissions and probes", Status.SKIP, "needs a Graph token")]
        try:
            claims = read_claims(token)
        except TokenFormatError as error:
            return [token_result, Check("permissions", Status.FAIL, str(error), "use an Entra access token")]
        roles = pure.roles_checks(claims, manifest, config.options)
        graph = await probes.graph_checks(
            config.settings, credential, claims.object_id, config.options, transport
        )
        return [token_result, *roles, *graph]
    finally:
        if own:
            await credential.close()

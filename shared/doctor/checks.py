"""The preflight's checks that need no I/O: each takes what was read or answered and returns Checks.

Every failure carries its fix: the setting to correct, or the permission and the command that
grants it (`python -m shared permissions grant`, run by an admin with their own credential).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from shared.api.config import ApiConfig, SourceSettings
from shared.compliance.service import ComplianceConfig
from shared.doctor.results import Check, Status
from shared.domain.profiles import ProfileError
from shared.engine.services import engine_config, load_profile_set
from shared.graph.errors import GraphError
from shared.permissions.claims import TokenClaims, compare_roles
from shared.permissions.manifest import Manifest, Option
from shared.settings import HOST_TIMEOUT_OVERRIDE, Settings, SettingsError
from shared.tickets.errors import ConfigError, SignatureError
from shared.tickets.signatures import SchemeName
from shared.tickets.signing_secrets import SecretFormat, parse_secrets

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"
# host.json without functionTimeout: the Consumption plan's default (5 minutes) is the strictest one.
UNSET_TIMEOUT_SECONDS = 300
PRINCIPAL_PLACEHOLDER = "<object id of PIM Warden's managed identity>"
T = TypeVar("T")
_DURATION = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})")


@dataclass(frozen=True)
class Configuration:
    """What the settings check read, for the checks after it."""

    settings: Settings
    options: frozenset[Option]
    api: ApiConfig
    protected_profiles: frozenset[str] = frozenset()

    def with_profiles_in_use(self, in_use: set[str]) -> frozenset[Option]:
        """The options, plus protected groups when a managed or registered app uses such a profile."""
        return self.options | ({Option.PROTECTED_GROUPS} if in_use & self.protected_profiles else set())


def settings_check(env: Mapping[str, str]) -> tuple[Check, Configuration | None]:
    """Every setting valid (the foundation's, the engine's, the HTTP side's, the compliance trail's)?"""
    try:
        settings = Settings.from_env(env)
    except SettingsError as error:
        return _bad_settings(list(error.problems)), None
    problems: list[str] = []
    engine = _collect(problems, lambda: engine_config(settings, env))
    api = _collect(problems, lambda: ApiConfig.from_env(env))
    _collect(problems, lambda: ComplianceConfig.from_env(env))
    try:
        profiles = load_profile_set(settings)
    except (ProfileError, OSError) as error:
        problems.append(f"PIMWARDEN_PROFILES_PATH: {error}")
        profiles = None
    if problems or engine is None or api is None or profiles is None:
        return _bad_settings(problems), None
    protected = frozenset(n for n, p in profiles.profiles.items() if p.protected_group)
    uses = (
        (Option.ATTRIBUTES, engine.high_value_attribute is not None or engine.profile_attribute is not None),
        (Option.PROTECTED_GROUPS, profiles.default_profile in protected),
    )
    options = frozenset(o for o, used in uses if used)
    return Check("settings", Status.PASS, "every setting is valid"), Configuration(
        settings, options, api, protected
    )


def _collect(problems: list[str], read: Callable[[], T]) -> T | None:
    """`read()`, or None with its problems added to `problems`."""
    try:
        return read()
    except SettingsError as error:
        problems.extend(error.problems)
        return None


def _bad_settings(problems: Sequence[str]) -> Check:
    names = sorted({p.split(":", 1)[0] for p in problems})
    return Check(
        "settings",
        Status.FAIL,
        "; ".join(problems) or "invalid settings",
        f"correct {', '.join(names)} (README, Settings)",
    )


def host_function_timeout(
    host_json: Path = HOST_JSON, env: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """The host's function timeout in seconds, and where it came from (the app setting wins)."""
    env = os.environ if env is None else env
    override = env.get(HOST_TIMEOUT_OVERRIDE, "").strip()
    if override:
        return _hms(override), HOST_TIMEOUT_OVERRIDE
    try:
        value = json.loads(host_json.read_text(encoding="utf-8")).get("functionTimeout")
    except (OSError, ValueError):
        value = None
    if not isinstance(value, str) or not value.strip():
        return UNSET_TIMEOUT_SECONDS, "host.json has no functionTimeout (Consumption default)"
    return _hms(value), "host.json functionTimeout"


def _hms(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"functionTimeout is not a duration [d.]hh:mm:ss: {text!r}")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def budget_check(budget_seconds: int, timeout_seconds: int, source: str) -> Check:
    """The run budget must end before the host kills the function."""
    detail = f"run budget {budget_seconds} s, host timeout {timeout_seconds} s ({source})"
    if budget_seconds < timeout_seconds:
        return Check("run budget", Status.PASS, detail)
    return Check(
        "run budget",
        Status.FAIL,
        detail + ": a run would be killed mid-way",
        f"set PIMWARDEN_RUN_BUDGET_SECONDS below {timeout_seconds}",
    )


def grant_command(principal: str | None, options: frozenset[Option]) -> str:
    """The command that grants the missing permissions."""
    flags = "".join(f" --with-{o.value}" for o in sorted(options))
    return f"python -m shared permissions grant --principal {principal or PRINCIPAL_PLACEHOLDER}{flags}"


def roles_checks(claims: TokenClaims, manifest: Manifest, options: frozenset[Option]) -> list[Check]:
    """The token's `roles` against the manifest: one failure per missing permission, one warning for
    what it holds that nothing needs."""
    comparison = compare_roles(claims.roles, manifest, options)
    fix = grant_command(claims.object_id, options)
    checks = [
        Check(
            f"permission {p.name}",
            Status.FAIL,
            f"not in the token's roles; needed for {', '.join(p.features)}: {p.why}",
            fix,
        )
        for p in comparison.missing
    ]
    if comparison.superfluous:
        checks.append(
            Check(
                "superfluous permissions",
                Status.WARN,
                f"the token holds {', '.join(comparison.superfluous)}, which nothing needs",
                f"python -m shared permissions check --principal {claims.object_id or PRINCIPAL_PLACEHOLDER}"
                " (lists them with the command that removes each)",
            )
        )
    if comparison.exact:
        needed = len(manifest.needed(options))
        checks.append(Check("permissions", Status.PASS, f"the token holds exactly the {needed} needed"))
    elif not comparison.missing:
        checks.insert(0, Check("permissions", Status.PASS, "the token holds every needed permission"))
    return checks


def probe_check(
    label: str,
    needs: Sequence[str],
    error: GraphError | None,
    principal: str | None,
    options: frozenset[Option],
    *,
    found: bool = True,
) -> Check:
    """One Graph probe's outcome: Graph's own error for a failure, with the permission it needs."""
    name = f"probe: {label}"
    if error is None:
        return Check(name, Status.PASS, "answered" if found else "answered (nothing to list)")
    detail = f"Graph {error.status} {error.code}: {error.message}"
    if error.request_id:
        detail += f" (request-id {error.request_id})"
    if error.status in (401, 403):
        return Check(
            name, Status.FAIL, detail, f"grant {' and '.join(needs)}: {grant_command(principal, options)}"
        )
    return Check(name, Status.FAIL, detail, "see Graph's error; run the preflight again once it is fixed")


def webhook_checks(sources: Mapping[str, SourceSettings]) -> list[Check]:
    """Each ticket source's signing secrets (format) and field mapping (valid JSON mapping)."""
    return [_webhook_check(name, source) for name, source in sorted(sources.items())]


def _webhook_check(name: str, source: SourceSettings) -> Check:
    from shared.tickets.adapters import load_source

    secrets, mapping, scheme = source.secrets, source.mapping, source.scheme
    prefix = f"PIMWARDEN_TICKETS_{name.upper()}"
    label = f"webhook source {name}"
    if not secrets:
        if mapping:
            return Check(
                label,
                Status.FAIL,
                "a field mapping is set but no signing secret",
                f"set {prefix}_SECRETS (or remove {prefix}_MAPPING)",
            )
        return Check(label, Status.SKIP, "not configured (its webhooks are refused with 503)")
    fmt = SecretFormat.RAW if scheme is SchemeName.JIRA else SecretFormat.WHSEC
    try:
        count = len(parse_secrets(secrets, fmt))
    except SignatureError as error:
        return Check(label, Status.FAIL, f"{prefix}_SECRETS: {error.hint}", _secret_fix(prefix, fmt))
    try:
        load_source(name, mapping)
    except ConfigError as error:
        return Check(
            label, Status.FAIL, f"{prefix}_MAPPING: {error}", f"correct {prefix}_MAPPING (docs/tickets.md)"
        )
    return Check(label, Status.PASS, f"{count} secret(s), scheme {scheme.value}, mapping valid")


def _secret_fix(prefix: str, fmt: SecretFormat) -> str:
    shape = "whsec_<base64 of 24-64 random bytes>" if fmt is SecretFormat.WHSEC else "16-256 characters"
    return f"set {prefix}_SECRETS to comma-separated secrets, each {shape}"

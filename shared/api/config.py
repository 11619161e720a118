"""Settings of the HTTP side (ticket sources, guardrails, operator tokens), read like `shared.settings`.

Kept apart from the foundation's `Settings` so that the HTTP side can grow its knobs without touching
it; read from the same environment with the same `SettingsReader` (every problem collected, then one
`SettingsError` naming each bad setting). Secrets are kept as raw text, parsed per request by
`shared.tickets.signing_secrets` (so one source's broken secret does not take the others down), and
never appear in `repr`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.settings import SettingsError, SettingsReader
from shared.tickets.adapters import SOURCES
from shared.tickets.signatures import SchemeName
from shared.url_rules import is_https_or_loopback_url

DEFAULT_READER_ROLE = "PimWarden.Reader"
DEFAULT_OPERATOR_ROLE = "PimWarden.Operator"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DEFAULT_SCHEME = {"jira": SchemeName.JIRA}


@dataclass(frozen=True)
class SourceSettings:
    """One ticket source: its signature scheme, secrets (raw text) and field mapping (JSON text)."""

    name: str
    scheme: SchemeName
    secrets: str | None = field(default=None, repr=False)
    mapping: str | None = None


@dataclass(frozen=True)
class TokenSettings:
    """Entra ID bearer tokens for the operator API; `configured` is False until an audience is set."""

    tenant_id: str | None = None
    audiences: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    jwks_url: str | None = None
    reader_role: str = DEFAULT_READER_ROLE
    operator_role: str = DEFAULT_OPERATOR_ROLE

    @property
    def configured(self) -> bool:
        return bool(self.audiences and self.issuers and self.jwks_url)


@dataclass(frozen=True)
class ApiConfig:
    """Every setting of the webhook and operator routes."""

    sources: Mapping[str, SourceSettings]
    allow_guests: bool = False
    register_sources: frozenset[str] = frozenset()
    inline_budget_seconds: int = 60
    tokens: TokenSettings = TokenSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiConfig:
        """Read and validate; raise SettingsError naming every bad setting."""
        r = SettingsReader(env)
        sources = {name: _source(r, name) for name in SOURCES}
        register = frozenset(_items(r.raw("PIMWARDEN_TICKETS_REGISTER_SOURCES")))
        for unknown in sorted(register - set(SOURCES)):
            r.problem("PIMWARDEN_TICKETS_REGISTER_SOURCES", f"unknown source {unknown!r}")
        budget = r.integer("PIMWARDEN_API_INLINE_BUDGET_SECONDS", 60, minimum=1)
        if budget is not None and budget > 200:
            r.problem(
                "PIMWARDEN_API_INLINE_BUDGET_SECONDS", "must be at most 200 (HTTP answers within 230 s)"
            )
        config = cls(
            sources=sources,
            allow_guests=_flag(r, "PIMWARDEN_TICKETS_ALLOW_GUESTS"),
            register_sources=register,
            inline_budget_seconds=budget or 60,
            tokens=_tokens(r),
        )
        r.raise_if_problems(SettingsError)
        return config


def _source(r: SettingsReader, name: str) -> SourceSettings:
    prefix = f"PIMWARDEN_TICKETS_{name.upper()}"
    scheme = r.choice(f"{prefix}_SCHEME", SchemeName, _DEFAULT_SCHEME.get(name, SchemeName.STANDARD_WEBHOOKS))
    return SourceSettings(
        name, scheme or SchemeName.STANDARD_WEBHOOKS, r.raw(f"{prefix}_SECRETS"), r.raw(f"{prefix}_MAPPING")
    )


def _tokens(r: SettingsReader) -> TokenSettings:
    tenant = r.raw("PIMWARDEN_API_TENANT_ID")
    if tenant is not None and not _GUID.match(tenant):
        r.problem("PIMWARDEN_API_TENANT_ID", "must be the tenant id (a GUID)")
        tenant = None
    issuers = _items(r.raw("PIMWARDEN_API_ISSUERS"))
    if not issuers and tenant:  # v2.0 and v1.0 access tokens of the tenant
        issuers = [f"https://login.microsoftonline.com/{tenant}/v2.0", f"https://sts.windows.net/{tenant}/"]
    jwks = r.raw("PIMWARDEN_API_JWKS_URL")
    if jwks is None and tenant:
        jwks = f"https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"
    if jwks is not None and not is_https_or_loopback_url(jwks):
        r.problem("PIMWARDEN_API_JWKS_URL", "must be an https URL without user info (http only on loopback)")
    return TokenSettings(
        tenant_id=tenant,
        audiences=tuple(_items(r.raw("PIMWARDEN_API_AUDIENCE"))),
        issuers=tuple(issuers),
        jwks_url=jwks,
        reader_role=r.raw("PIMWARDEN_API_READER_ROLE") or DEFAULT_READER_ROLE,
        operator_role=r.raw("PIMWARDEN_API_OPERATOR_ROLE") or DEFAULT_OPERATOR_ROLE,
    )


def _items(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _flag(r: SettingsReader, name: str) -> bool:
    value = (r.raw(name) or "false").lower()
    if value not in ("true", "false"):
        r.problem(name, f"must be true or false, got {value!r}")
    return value == "true"

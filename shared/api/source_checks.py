"""Is each ticket source usable as configured? The same parsing a delivery goes through, done up front.

A delivery to a source whose secrets or mapping are broken is answered 503 `source_not_configured`
and retried by the sender until it gives up, so health must say so first. A source is in use once its
secrets are set; its mapping is checked whenever it is set, or when the source needs one (jira).
Problems name the setting and what is wrong with it, never a secret (secrets by position only).
"""

from __future__ import annotations

from enum import StrEnum

from shared.api.config import ApiConfig, SourceSettings
from shared.tickets.adapters import SOURCES, load_source
from shared.tickets.errors import ConfigError, SignatureError
from shared.tickets.signatures import SchemeName
from shared.tickets.signing_secrets import SecretFormat, parse_secrets


class SourceState(StrEnum):
    """What health reports per source."""

    OFF = "off"  # no secrets: deliveries are refused (503 source_not_configured) by design
    READY = "ready"
    BROKEN = "broken"


def secrets_setting(source: str) -> str:
    return f"PIMWARDEN_TICKETS_{source.upper()}_SECRETS"


def check_source(settings: SourceSettings) -> list[str]:
    """Problems of one source, each `SETTING: reason`; empty when usable (or simply off)."""
    problems: list[str] = []
    if settings.secrets is not None:
        fmt = SecretFormat.RAW if settings.scheme is SchemeName.JIRA else SecretFormat.WHSEC
        try:
            parse_secrets(settings.secrets, fmt)
        except SignatureError as error:
            problems.append(f"{secrets_setting(settings.name)}: {error.hint}")
    if settings.secrets is not None or settings.mapping is not None:
        try:
            load_source(settings.name, settings.mapping)
        except ConfigError as error:
            problems.append(f"{error.setting}: " + "; ".join(error.problems))
    return problems


def source_states(config: ApiConfig) -> dict[str, SourceState]:
    """Each source's state, by name."""
    return {name: _state(config.sources[name]) for name in SOURCES}


def source_problems(config: ApiConfig) -> list[str]:
    """Every problem of every source."""
    return [p for name in SOURCES for p in check_source(config.sources[name])]


def _state(settings: SourceSettings) -> SourceState:
    if check_source(settings):
        return SourceState.BROKEN
    return SourceState.OFF if settings.secrets is None else SourceState.READY

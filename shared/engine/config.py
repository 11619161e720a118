"""Engine settings that the foundation's `Settings` does not carry (yet), read from the same env mapping.

Kept here so the engine can grow its knobs without touching `shared/settings.py`; validated the same
way (every problem collected, then one SettingsError naming each bad setting).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.ids import PrincipalId
from shared.settings import SettingsError, SettingsReader

QUICK_ACCESS_TAG = "NetworkAccessQuickAccessApplication"
PRIVATE_ACCESS_TAGS = ("PrivateAccessNonWebApplication", "NetworkAccessManagedApplication")
_ATTRIBUTE_RE = re.compile(r"^([A-Za-z0-9_]+)/([A-Za-z0-9_]+)$")


@dataclass(frozen=True)
class AttributeRef:
    """A custom security attribute: attribute set + attribute name (both case-sensitive)."""

    attribute_set: str
    attribute: str


@dataclass(frozen=True)
class AttributeMatch:
    """A custom security attribute value that marks an app as high-value."""

    ref: AttributeRef
    value: str


@dataclass(frozen=True)
class EngineConfig:
    """Every engine knob; `from_env` reads them from app settings."""

    high_value_tag: str = "HighValue"
    high_value_attribute: AttributeMatch | None = None
    profile_attribute: AttributeRef | None = None
    private_access_apps: bool = False
    include_quick_access: bool = False
    protected_principals: frozenset[PrincipalId] = frozenset()
    trusted_owners: frozenset[PrincipalId] = frozenset()
    # PIM Warden's own service principal(s): audit entries they initiated are not change signals.
    own_service_principals: frozenset[PrincipalId] = frozenset()
    concurrency: int = 8
    lease_seconds: int = 300
    audit_overlap_minutes: int = 15
    replication_wait_seconds: float = 60.0
    full_audit_schedule: str = "0 30 3 * * *"

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, high_value_tag: str = "HighValue") -> EngineConfig:
        """Read and validate; raise SettingsError naming every bad setting."""
        r = SettingsReader(env)
        config = cls(
            high_value_tag=high_value_tag,
            high_value_attribute=_attribute_match(r, "PIMWARDEN_HIGH_VALUE_ATTRIBUTE"),
            profile_attribute=_attribute_ref(r, "PIMWARDEN_PROFILE_ATTRIBUTE"),
            private_access_apps=_flag(r, "PIMWARDEN_PRIVATE_ACCESS_APPS", False),
            include_quick_access=_flag(r, "PIMWARDEN_INCLUDE_QUICK_ACCESS", False),
            protected_principals=principal_ids(r, "PIMWARDEN_PROTECTED_PRINCIPALS"),
            trusted_owners=principal_ids(r, "PIMWARDEN_TRUSTED_OWNERS"),
            own_service_principals=principal_ids(r, "PIMWARDEN_SERVICE_PRINCIPAL_ID"),
            concurrency=r.integer("PIMWARDEN_ENFORCE_CONCURRENCY", 8, minimum=1) or 1,
            lease_seconds=r.integer("PIMWARDEN_LEASE_SECONDS", 300, minimum=30) or 300,
            audit_overlap_minutes=r.integer("PIMWARDEN_AUDIT_OVERLAP_MINUTES", 15, minimum=0) or 0,
            replication_wait_seconds=float(
                r.integer("PIMWARDEN_REPLICATION_WAIT_SECONDS", 60, minimum=0) or 0),
            full_audit_schedule=r.text("PIMWARDEN_FULL_AUDIT_SCHEDULE", "0 30 3 * * *", _six_fields) or "",
        )
        r.raise_if_problems(SettingsError)
        return config


def _flag(r: SettingsReader, name: str, default: bool) -> bool:
    value = r.raw(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
        r.problem(name, f"must be true or false, got {value!r}")
        return default
    return value.lower() in ("true", "1", "yes")


def principal_ids(r: SettingsReader, name: str) -> frozenset[PrincipalId]:
    """Object ids, lower-cased as Graph writes them: a break-glass id pasted in upper case must still
    match. Anything that is not a GUID (a UPN, a typo) is refused rather than silently matching nothing."""
    ids = set()
    for part in (r.raw(name) or "").split(","):
        text = part.strip().lower()
        if not text:
            continue
        try:
            ids.add(PrincipalId(str(uuid.UUID(text))))
        except ValueError:
            r.problem(name, f"{text!r} is not an object id (GUID); UPNs are not accepted here")
    return frozenset(ids)


def _attribute_ref(r: SettingsReader, name: str) -> AttributeRef | None:
    value = r.raw(name)
    if value is None:
        return None
    match = _ATTRIBUTE_RE.match(value)
    if not match:
        r.problem(name, f"must be AttributeSet/Attribute, got {value!r}")
        return None
    return AttributeRef(match.group(1), match.group(2))


def _attribute_match(r: SettingsReader, name: str) -> AttributeMatch | None:
    value = r.raw(name)
    if value is None:
        return None
    ref_text, sep, wanted = value.partition("=")
    match = _ATTRIBUTE_RE.match(ref_text.strip())
    if not sep or not match or not wanted.strip():
        r.problem(name, f"must be AttributeSet/Attribute=Value, got {value!r}")
        return None
    return AttributeMatch(AttributeRef(match.group(1), match.group(2)), wanted.strip())


def _six_fields(value: str) -> str | None:
    return None if len(value.split()) == 6 else "must be a 6-field NCRONTAB expression"

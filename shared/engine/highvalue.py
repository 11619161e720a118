"""Which service principals are high-value, why, and under which profile (pure).

Any of: the configured tag, a custom security attribute value (case-sensitive, as Entra stores them),
a Private Access app as Graph shows it (its tags; the Quick Access app only when configured), or an
explicit registration in Table Storage. The profile comes from the registration, else from a custom
security attribute naming one, else the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.model import ServicePrincipal
from shared.engine.config import PRIVATE_ACCESS_TAGS, QUICK_ACCESS_TAG, AttributeRef, EngineConfig


@dataclass(frozen=True)
class HighValue:
    """Why an app is high-value and which profile applies (None = the default profile)."""

    reason: str
    profile: str | None


def classify(
    sp: ServicePrincipal, config: EngineConfig, *, registered_profile: str | None = None,
    registered: bool = False,
) -> HighValue | None:
    """The high-value verdict for `sp`, or None when no selector matches."""
    reason = _reason(sp, config, registered)
    if reason is None:
        return None
    return HighValue(reason, registered_profile or _attribute_profile(sp, config))


def _reason(sp: ServicePrincipal, config: EngineConfig, registered: bool) -> str | None:
    if registered:
        return "registration"
    if config.high_value_tag and config.high_value_tag in sp.tags:
        return f"tag:{config.high_value_tag}"
    match = config.high_value_attribute
    if match is not None and attribute_value(sp.custom_security_attributes, match.ref) == match.value:
        return f"attribute:{match.ref.attribute_set}/{match.ref.attribute}={match.value}"
    if config.private_access_apps:
        if QUICK_ACCESS_TAG in sp.tags:  # the Quick Access app also carries Private Access tags
            return "quick-access" if config.include_quick_access else None
        if any(tag in sp.tags for tag in PRIVATE_ACCESS_TAGS):
            return "private-access"
    return None


def _attribute_profile(sp: ServicePrincipal, config: EngineConfig) -> str | None:
    if config.profile_attribute is None:
        return None
    value = attribute_value(sp.custom_security_attributes, config.profile_attribute)
    return value or None


def attribute_value(attributes: Mapping[str, Any], ref: AttributeRef) -> str | None:
    """The string value of one custom security attribute (a multi-valued one: its first value)."""
    attribute_set = attributes.get(ref.attribute_set)
    if not isinstance(attribute_set, Mapping):
        return None
    value = attribute_set.get(ref.attribute)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None

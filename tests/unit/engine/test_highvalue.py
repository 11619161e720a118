"""High-value detection: every selector, alone and combined, as a table."""

from __future__ import annotations

import pytest

from shared.domain.ids import AppId, ServicePrincipalId
from shared.domain.model import ServicePrincipal
from shared.engine.config import AttributeMatch, AttributeRef, EngineConfig
from shared.engine.highvalue import classify
from shared.settings import SettingsError

ATTR = AttributeMatch(AttributeRef("Applications", "Tier"), "HighValue")
PROFILE_ATTR = AttributeRef("Applications", "PimProfile")


def sp(tags: tuple[str, ...] = (), attrs: dict | None = None) -> ServicePrincipal:
    return ServicePrincipal(
        ServicePrincipalId("sp"), AppId("app"), "App", tags=tags, custom_security_attributes=attrs or {}
    )


@pytest.mark.parametrize(
    ("principal", "config", "registered", "reason"),
    [
        (sp(("HighValue",)), EngineConfig(), False, "tag:HighValue"),
        (sp(("highvalue",)), EngineConfig(), False, None),
        (sp(("Crown",)), EngineConfig(high_value_tag="Crown"), False, "tag:Crown"),
        (
            sp(attrs={"Applications": {"Tier": "HighValue"}}),
            EngineConfig(high_value_attribute=ATTR),
            False,
            "attribute:Applications/Tier=HighValue",
        ),
        (
            sp(attrs={"Applications": {"Tier": "highvalue"}}),
            EngineConfig(high_value_attribute=ATTR),
            False,
            None,
        ),
        (
            sp(attrs={"Applications": {"Tier": ["HighValue"]}}),
            EngineConfig(high_value_attribute=ATTR),
            False,
            "attribute:Applications/Tier=HighValue",
        ),
        (sp(attrs={"Applications": {"Tier": "HighValue"}}), EngineConfig(), False, None),
        (sp(("PrivateAccessNonWebApplication",)), EngineConfig(), False, None),
        (
            sp(("PrivateAccessNonWebApplication",)),
            EngineConfig(private_access_apps=True),
            False,
            "private-access",
        ),
        (
            sp(("NetworkAccessManagedApplication",)),
            EngineConfig(private_access_apps=True),
            False,
            "private-access",
        ),
        (
            sp(("NetworkAccessQuickAccessApplication", "PrivateAccessNonWebApplication")),
            EngineConfig(private_access_apps=True),
            False,
            None,
        ),
        (
            sp(("NetworkAccessQuickAccessApplication",)),
            EngineConfig(private_access_apps=True, include_quick_access=True),
            False,
            "quick-access",
        ),
        (sp(), EngineConfig(), True, "registration"),
        (sp(), EngineConfig(), False, None),
    ],
)
def test_selectors(
    principal: ServicePrincipal, config: EngineConfig, registered: bool, reason: str | None
) -> None:
    verdict = classify(principal, config, registered=registered)
    assert (verdict.reason if verdict else None) == reason


@pytest.mark.parametrize(
    ("registered_profile", "attrs", "expected"),
    [
        ("strict", {"Applications": {"PimProfile": "report-only"}}, "strict"),
        (None, {"Applications": {"PimProfile": "report-only"}}, "report-only"),
        (None, {}, None),
    ],
)
def test_profile_choice(registered_profile: str | None, attrs: dict, expected: str | None) -> None:
    config = EngineConfig(profile_attribute=PROFILE_ATTR)
    verdict = classify(
        sp(("HighValue",), attrs),
        config,
        registered=registered_profile is not None,
        registered_profile=registered_profile,
    )
    assert verdict is not None and verdict.profile == expected


def test_config_from_env_reads_and_validates() -> None:
    config = EngineConfig.from_env(
        {
            "PIMWARDEN_HIGH_VALUE_ATTRIBUTE": "Applications/Tier=HighValue",
            "PIMWARDEN_PRIVATE_ACCESS_APPS": "true",
            "PIMWARDEN_PROTECTED_PRINCIPALS": (
                "A1B2C3D4-0000-4000-8000-00000000000A, 0f0e0d0c-0000-4000-8000-00000000000b"
            ),
            "PIMWARDEN_ENFORCE_CONCURRENCY": "4",
        }
    )
    assert config.high_value_attribute == ATTR and config.private_access_apps
    # Upper-case ids are folded to Graph's lower case, so a pasted break-glass id still matches.
    assert config.protected_principals == {
        "a1b2c3d4-0000-4000-8000-00000000000a",
        "0f0e0d0c-0000-4000-8000-00000000000b",
    }
    assert config.concurrency == 4
    with pytest.raises(SettingsError) as error:
        EngineConfig.from_env(
            {
                "PIMWARDEN_HIGH_VALUE_ATTRIBUTE": "Tier",
                "PIMWARDEN_PRIVATE_ACCESS_APPS": "maybe",
                "PIMWARDEN_PROTECTED_PRINCIPALS": "breakglass@contoso.com",
            }
        )
    assert {p.split(":")[0] for p in error.value.problems} == {
        "PIMWARDEN_HIGH_VALUE_ATTRIBUTE",
        "PIMWARDEN_PRIVATE_ACCESS_APPS",
        "PIMWARDEN_PROTECTED_PRINCIPALS",
    }

"""The permission manifest: every Microsoft Graph application permission PIM Warden uses.

`manifest.json` beside this module is the single source: the README's permission list, the
deployment's grants, graphsim's demo token and the preflight all read it. Each entry names its app
role id on the Microsoft Graph service principal, the features that need it, whether it is always
needed or only with a setting, and the Graph docs page that lists it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Settings that make discovery read custom security attributes (Option.ATTRIBUTES).
ATTRIBUTE_SETTINGS = ("PIMWARDEN_HIGH_VALUE_ATTRIBUTE", "PIMWARDEN_PROFILE_ATTRIBUTE")


class Need(StrEnum):
    ALWAYS = "always"
    SETTING = "setting"


class Option(StrEnum):
    """The optional features whose permissions are granted only when asked for (grant's --with-...)."""

    ATTRIBUTES = "attributes"  # a custom security attribute selects apps or names their profile
    PROTECTED_GROUPS = "protected-groups"  # a profile creates role-assignable groups


def options_in_use(env: Mapping[str, str], *, protected_groups: bool = False) -> frozenset[Option]:
    """The optional features a configuration uses: an attribute setting set in `env`; protected groups
    when the caller says a profile in use creates role-assignable groups."""
    attributes = any(env.get(name, "").strip() for name in ATTRIBUTE_SETTINGS)
    chosen = ((Option.ATTRIBUTES, attributes), (Option.PROTECTED_GROUPS, protected_groups))
    return frozenset(o for o, used in chosen if used)


@dataclass(frozen=True)
class Permission:
    name: str
    app_role_id: str
    need: Need
    features: tuple[str, ...]
    why: str
    docs: tuple[str, ...]
    setting: str | None = None
    option: Option | None = None

    def needed_with(self, options: frozenset[Option]) -> bool:
        """Whether a deployment using `options` needs this permission."""
        return self.need is Need.ALWAYS or self.option in options


@dataclass(frozen=True)
class Manifest:
    resource_app_id: str
    permissions: tuple[Permission, ...]

    def always(self) -> tuple[Permission, ...]:
        """Permissions every deployment needs."""
        return tuple(p for p in self.permissions if p.need is Need.ALWAYS)

    def needed(self, options: frozenset[Option] = frozenset()) -> tuple[Permission, ...]:
        """The permissions a deployment with these optional features needs."""
        return tuple(p for p in self.permissions if p.needed_with(options))

    def by_name(self, name: str) -> Permission:
        """The entry named `name` (KeyError when PIM Warden does not use it)."""
        for permission in self.permissions:
            if permission.name == name:
                return permission
        raise KeyError(name)


@lru_cache(maxsize=1)
def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and validate the manifest (cached: it ships with the code and never changes at run time)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Manifest(
        resource_app_id=str(raw["resource"]["appId"]),
        permissions=tuple(_permission(entry) for entry in raw["permissions"]),
    )


def _permission(entry: dict[str, Any]) -> Permission:
    need = Need(entry["needed"])
    setting = entry.get("setting")
    option = Option(entry["option"]) if entry.get("option") else None
    if need is Need.SETTING and not (setting and option):
        raise ValueError(f"{entry['name']}: a permission needed with a setting must name it and its option")
    return Permission(
        name=str(entry["name"]),
        app_role_id=str(entry["id"]).lower(),
        need=need,
        features=tuple(entry["features"]),
        why=str(entry["why"]),
        docs=tuple(entry["docs"]),
        setting=setting,
        option=option,
    )

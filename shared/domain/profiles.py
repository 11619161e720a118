"""Policy profiles: named, declarative PIM settings for the member and owner roles of a managed group.

A profile says how strict just-in-time access to an app is (activation length, MFA, justification,
ticket, approval, authentication context, eligibility expiry, notifications) and how the engine treats
what it finds (remove members added around PIM? remove direct app role assignments?). Profiles ship in
`shared/profiles.json` (versioned) and can be replaced by an override file. They are validated when
loaded, with messages that name the profile and the field, so a bad file never reaches Graph.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

SHIPPED_PROFILES_PATH = Path(__file__).resolve().parents[1] / "profiles.json"
SUPPORTED_VERSION = 1


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the profile and the field."""


class ApproverKind(StrEnum):
    """Who approves: one user (`singleUser`) or the members of a group (`groupMembers`)."""

    USER = "user"
    GROUP = "group"


class NotificationLevel(StrEnum):
    """PIM's `notificationLevel`."""

    NONE = "None"
    CRITICAL = "Critical"
    ALL = "All"


class RoleSelection(StrEnum):
    """Which app roles of an app get a PIM-guarded group.

    `all`: every enabled app role assignable to users (or Default Access when the app declares none);
    `default`: Default Access only (apps that declare no user-assignable roles; others are reported);
    `named`: the app roles whose `value` is listed in `RoleSelector.names`.
    """

    ALL = "all"
    DEFAULT = "default"
    NAMED = "named"


@dataclass(frozen=True)
class Approver:
    """An approver: a user id or a group id (every member of the group may approve)."""

    kind: ApproverKind
    id: str
    description: str = ""


@dataclass(frozen=True)
class ApprovalStage:
    """One approval stage (PIM runs stages in series)."""

    approvers: tuple[Approver, ...]
    timeout_days: int = 1
    approver_justification_required: bool = True
    escalation_approvers: tuple[Approver, ...] = ()
    escalation_minutes: int = 0


@dataclass(frozen=True)
class Approval:
    """Approval of activation requests (`Approval_EndUser_Assignment`)."""

    stages: tuple[ApprovalStage, ...]
    required_for_extension: bool = False


@dataclass(frozen=True)
class Expiry:
    """Expiry of eligible or active assignments: may they be permanent, and how long at most."""

    allow_permanent: bool
    maximum: str


@dataclass(frozen=True)
class Notification:
    """One notification rule: default recipients on/off, extra e-mail recipients, level."""

    default_recipients: bool = True
    recipients: tuple[str, ...] = ()
    level: NotificationLevel = NotificationLevel.ALL


@dataclass(frozen=True)
class RoleSettings:
    """Every PIM setting for one role (member or owner) of a managed group."""

    activation_maximum: str
    require_mfa: bool
    require_justification: bool
    require_ticket: bool
    approval: Approval | None
    authentication_context: str | None
    eligibility: Expiry
    active_assignment: Expiry
    active_assignment_require_mfa: bool = True
    active_assignment_require_justification: bool = True
    notifications: Mapping[str, Notification] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RoleSelector:
    """Which app roles a profile protects."""

    mode: RoleSelection = RoleSelection.ALL
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A named policy profile."""

    name: str
    description: str
    member: RoleSettings
    owner: RoleSettings
    remove_bypass_members: bool = True
    exclusive: bool = False
    protected_group: bool = False
    protected_roles: RoleSelector = RoleSelector()


@dataclass(frozen=True)
class ProfileSet:
    """All profiles of one file, and which one applies when an app names none."""

    version: int
    default_profile: str
    profiles: Mapping[str, Profile] = field(hash=False)

    def get(self, name: str | None) -> Profile:
        """The named profile (the default when `name` is None); raise ProfileError if unknown."""
        key = name or self.default_profile
        try:
            return self.profiles[key]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ProfileError(f"unknown profile {key!r}; known profiles: {known}") from None


SAFE_OWNER_SETTINGS = RoleSettings(
    activation_maximum="PT1H",
    require_mfa=True,
    require_justification=True,
    require_ticket=False,
    approval=None,
    authentication_context=None,
    eligibility=Expiry(allow_permanent=False, maximum="P30D"),
    active_assignment=Expiry(allow_permanent=False, maximum="P1D"),
)
"""Owner role settings when a profile gives none.

PIM Warden never grants owner eligibility: owners could add members around PIM. Should an
administrator still make someone eligible for owner, that person must pass MFA, give a reason and
gets at most one hour; no eligibility or active ownership is permanent. A profile with approvers
should also require approval for owner activation (as `strict` does).
"""


def load_profiles(path: Path | None = None) -> ProfileSet:
    """Read and validate a profile file (the shipped `shared/profiles.json` when `path` is None)."""
    source = path or SHIPPED_PROFILES_PATH
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ProfileError(f"cannot read profiles from {source}: {error}") from error
    from shared.domain.profile_parsing import parse_profile_set

    return parse_profile_set(data)


def profile_fingerprint(profile: Profile) -> str:
    """A stable hash of everything in a profile: changes exactly when its effect can change."""
    canonical = json.dumps(_plain(asdict(profile)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value

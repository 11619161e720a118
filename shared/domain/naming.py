"""Deterministic identity of the group that guards one (app, app role).

The `uniqueName` is the group's alternate key in Graph and our crash-safe identity: it is derived from
the service principal's immutable ids (the application id and the app role id), never from a display
name, so two apps with the same name get different groups and a renamed app keeps its group.
Display name and description follow Microsoft's published recommendation (app, role and purpose,
e.g. `FinReport-SeniorAnalyst-SecureAccess`) and track renames. Graph's limits: displayName at most
256 characters; mailNickname at most 64 ASCII characters without `@ () \\ [] " ; : <> , SPACE .`
(docs-contrib group-post-groups / group-update).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shared.domain.ids import DEFAULT_APP_ROLE_ID, AppId, AppRoleId, UniqueName
from shared.domain.model import GroupIdentity

DISPLAY_NAME_LIMIT = 256
MAIL_NICKNAME_LIMIT = 64
DESCRIPTION_LIMIT = 1024
DEFAULT_ROLE_WORD = "User"
_MAIL_FORBIDDEN = re.compile(r"[@()\\\[\]\";:<>,.\s]+")
_NON_ASCII_PRINTABLE = re.compile(r"[^\x21-\x7e]+")
_DASHES = re.compile(r"-{2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NamingTemplates:
    """Templates for a managed group's names. Placeholders: {app}, {role}, {app_id}, {app_role_id},
    {short_id} (first 8 characters of the application id, to tell apps with one name apart)."""

    display_name: str = "{app}-{role}-SecureAccess"
    mail_nickname: str = "{app}-{role}-SecureAccess"
    description: str = (
        "Managed by PIM Warden: just-in-time access to {app} (app role {role}) through PIM for Groups. "
        "Ask for eligibility; do not add members directly."
    )
    unique_name: str = "pimwarden-{app_id}-{app_role_id}"


DEFAULT_TEMPLATES = NamingTemplates()


def group_identity(
    app_display_name: str,
    app_id: AppId,
    app_role_id: AppRoleId,
    role_name: str | None,
    templates: NamingTemplates = DEFAULT_TEMPLATES,
) -> GroupIdentity:
    """The group identity for one app role (Default Access when `app_role_id` is the default id)."""
    role = _clean_text(role_name or "") or DEFAULT_ROLE_WORD
    app = _clean_text(app_display_name) or str(app_id)
    values = {
        "app": app,
        "role": role,
        "app_id": str(app_id).lower(),
        "app_role_id": str(app_role_id).lower(),
        "short_id": str(app_id).lower()[:8],
    }
    return GroupIdentity(
        unique_name=unique_name(app_id, app_role_id, templates),
        display_name=_truncate(_clean_text(templates.display_name.format(**values)), DISPLAY_NAME_LIMIT),
        description=_truncate(_clean_text(templates.description.format(**values)), DESCRIPTION_LIMIT),
        mail_nickname=mail_nickname(
            templates.mail_nickname.format(**values), fallback=f"pimwarden-{values['short_id']}"
        ),
    )


def unique_name(
    app_id: AppId, app_role_id: AppRoleId, templates: NamingTemplates = DEFAULT_TEMPLATES
) -> UniqueName:
    """The stable `uniqueName` for (application id, app role id): ASCII, lower case, immutable inputs only."""
    text = templates.unique_name.format(app_id=str(app_id).lower(), app_role_id=str(app_role_id).lower())
    return UniqueName(mail_nickname(text, fallback=str(app_id).lower(), limit=DISPLAY_NAME_LIMIT))


def mail_nickname(text: str, fallback: str, limit: int = MAIL_NICKNAME_LIMIT) -> str:
    """`text` made acceptable as a mailNickname: ASCII, no forbidden characters, at most `limit` long."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _MAIL_FORBIDDEN.sub("-", ascii_text)
    cleaned = _DASHES.sub("-", _NON_ASCII_PRINTABLE.sub("-", cleaned)).strip("-")
    cleaned = cleaned[:limit].rstrip("-")
    if cleaned or fallback == "pimwarden":
        return cleaned or fallback
    return mail_nickname(fallback, fallback="pimwarden", limit=limit)


def role_word(app_role_id: AppRoleId, value: str | None, display_name: str | None) -> str:
    """The word naming a role in group names: its value, else its display name, else `User`."""
    if app_role_id == DEFAULT_APP_ROLE_ID:
        return DEFAULT_ROLE_WORD
    return _clean_text(value or "") or _clean_text(display_name or "") or DEFAULT_ROLE_WORD


def _clean_text(text: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", unicodedata.normalize("NFC", text))).strip()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()

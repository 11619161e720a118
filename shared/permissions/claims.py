"""What an access token says about its caller, read from its claims (never trusted for access).

The token is decoded WITHOUT checking its signature: the preflight only wants to know which
application permissions Entra put in the `roles` claim of PIM Warden's own token, and which identity
an admin's token names (`oid`), to compare them with the manifest. Nothing is authorised on this basis.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.permissions.manifest import Manifest, Option, Permission


class TokenFormatError(ValueError):
    """The access token is not a JWT whose claims can be read."""


@dataclass(frozen=True)
class TokenClaims:
    """The claims the preflight and the grant command look at."""

    object_id: str | None
    app_id: str | None
    roles: frozenset[str]
    app_only: bool


def read_claims(token: str) -> TokenClaims:
    """The claims of a JWT access token (payload decoded, signature not checked)."""
    claims = _payload(token)
    roles = claims.get("roles")
    oid = claims.get("oid")
    app = claims.get("appid") or claims.get("azp")
    return TokenClaims(
        object_id=str(oid).lower() if isinstance(oid, str) and oid else None,
        app_id=str(app) if isinstance(app, str) and app else None,
        roles=frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset(),
        app_only=claims.get("idtyp") == "app" or ("scp" not in claims and "roles" in claims),
    )


def _payload(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        raise TokenFormatError("the access token is not a JWT (three dot-separated parts)")
    try:
        data = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError) as error:
        raise TokenFormatError("the access token's claims are not base64url JSON") from error
    if not isinstance(data, dict):
        raise TokenFormatError("the access token's claims are not a JSON object")
    return data


@dataclass(frozen=True)
class RoleComparison:
    """The token's roles against what the deployment needs."""

    missing: tuple[Permission, ...]
    superfluous: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return not self.missing and not self.superfluous


def compare_roles(roles: Iterable[str], manifest: Manifest, options: frozenset[Option]) -> RoleComparison:
    """Which needed permissions the token lacks, and which roles it holds that nothing needs."""
    held = set(roles)
    needed = manifest.needed(options)
    names = {p.name for p in needed}
    return RoleComparison(
        missing=tuple(p for p in needed if p.name not in held),
        superfluous=tuple(sorted(held - names)),
    )

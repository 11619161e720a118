"""App-only access tokens as graphsim reads them: an unsigned JWT whose claims name the calling app
and, in `roles`, the application permissions it was granted (as Entra issues them to a service principal).

Why unsigned: graphsim is a loopback test tool; what matters is the claims Graph authorizes on
(`roles` for app-only tokens), not the signature. A token without `roles` holds no application
permission, exactly as in a tenant where nothing was granted.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable
from typing import Any

GRAPH_AUDIENCE = "https://graph.microsoft.com"
LIFETIME_SECONDS = 3600
_NAMESPACE = uuid.UUID("6f1c5b1e-8a43-4d8e-9c0a-2b8f3e7d1a55")  # fixed: a client's ids are stable


def mint(
    roles: Iterable[str],
    *,
    client: str = "graphsim client",
    app_id: str | None = None,
    object_id: str | None = None,
) -> str:
    """A token for `client` holding exactly `roles` (ids default to stable values derived from the name)."""
    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "aud": GRAPH_AUDIENCE,
        "idtyp": "app",
        "oid": (object_id or str(uuid.uuid5(_NAMESPACE, f"sp:{client}"))).lower(),
        "appid": (app_id or str(uuid.uuid5(_NAMESPACE, f"app:{client}"))).lower(),
        "app_displayname": client,
        "roles": sorted(set(roles)),
    }
    return f"{_segment(header)}.{_segment(claims)}."


def claims_of(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (signature not checked), or None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def roles_of(claims: dict[str, Any] | None) -> frozenset[str]:
    """The application permissions an app-only token carries (none for an opaque or user token)."""
    roles = (claims or {}).get("roles")
    if not isinstance(roles, list):
        return frozenset()
    return frozenset(r for r in roles if isinstance(r, str))


def _segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")

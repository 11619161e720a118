"""Bearer tokens for tests, minted the way graphsim's control plane mints them.

- `product_token()`: PIM Warden's own token, holding exactly the permission manifest's always-needed
  application permissions (plus a setting's permission when the test turns that setting on), under
  the fixed caller identity graphsim records for PIM Warden.
- `admin_token()`: the other actors of a story (a tenant admin causing drift, a user activating),
  holding every permission graphsim knows, so their setup never hides a product permission problem.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphsim.directory.audit import CALLER_APP
from graphsim.permissions import RULES
from graphsim.testing import StaticCredential, mint_token
from shared.credentials import manifest_roles

ATTRIBUTE_SETTING = "PIMWARDEN_HIGH_VALUE_ATTRIBUTE"
ADMIN_ROLES = sorted({name for rule in RULES.values() for option in rule.accepted for name in option})


def product_roles(
    *, attribute: bool = False, protected_groups: bool = False, without: Iterable[str] = ()
) -> list[str]:
    """The manifest's always-needed permissions (+ those of the attribute selector and of profiles with
    protected groups, when asked), minus `without`."""
    env = {ATTRIBUTE_SETTING: "Applications/Tier=HighValue"} if attribute else {}
    removed = set(without)
    return [n for n in manifest_roles(env, protected_groups=protected_groups) if n not in removed]


def product_token(
    *, attribute: bool = False, protected_groups: bool = False, without: Iterable[str] = ()
) -> str:
    """PIM Warden's token (see product_roles), naming the caller graphsim's audit uses for PIM Warden."""
    return mint_token(
        product_roles(attribute=attribute, protected_groups=protected_groups, without=without),
        client=str(CALLER_APP["displayName"]),
        app_id=str(CALLER_APP["appId"]),
        object_id=str(CALLER_APP["servicePrincipalId"]),
    )


def product_credential(
    *, attribute: bool = False, protected_groups: bool = False, without: Iterable[str] = ()
) -> StaticCredential:
    """A credential answering product_token()."""
    token = product_token(attribute=attribute, protected_groups=protected_groups, without=without)
    return StaticCredential(token)


def admin_token() -> str:
    """A tenant admin's token: every permission graphsim authorizes on."""
    return mint_token(ADMIN_ROLES, client="Tenant admin (test)")


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token()}"}

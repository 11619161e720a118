"""What PIM Warden may manage at all (pure): one rule for intake, the operator API, the CLI, discovery
and the engine.

Managing an app switches on "assignment required" and, in exclusive mode, removes direct app role
assignments. On some service principals that locks a whole tenant out or strips permissions that PIM
can never give back, so these are refused whatever asks for them:

* Microsoft's own first-party apps (Exchange Online, SharePoint, Teams, ...): their application is
  registered in a Microsoft tenant, which `appOwnerOrganizationId` names. Both Microsoft Services
  (f8cdef31-...) and Microsoft's corporate tenant (72f988bf-...) publish first-party apps; both are
  refused, since neither is ever the customer's own app.
* the Microsoft Graph resource itself (by its well-known appId);
* managed identities, and any service principal that is not backed by an application registration
  (`servicePrincipalType` other than `Application`, or not known): nobody signs in to them, and their
  app role assignments are application permissions;
* PIM Warden's own service principal.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from shared.domain.model import ServicePrincipal

MICROSOFT_OWNER_TENANTS = frozenset({
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",  # Microsoft Services: most first-party apps
    "72f988bf-86f1-41af-91ab-2d7cd011db47",  # Microsoft's corporate tenant: some first-party apps
})
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
APPLICATION_TYPE = "Application"
MANAGED_IDENTITY_TYPE = "ManagedIdentity"


class Unmanageable(StrEnum):
    """Why a service principal may not be managed (the code answered to callers and audited)."""

    MICROSOFT_FIRST_PARTY = "microsoft_first_party_app"
    MICROSOFT_GRAPH = "microsoft_graph_resource"
    MANAGED_IDENTITY = "managed_identity"
    NOT_AN_APPLICATION = "not_an_application"
    PIM_WARDEN_ITSELF = "pim_warden_itself"


_WHY = {
    Unmanageable.MICROSOFT_FIRST_PARTY: "a Microsoft first-party app (registered in a Microsoft tenant)",
    Unmanageable.MICROSOFT_GRAPH: "the Microsoft Graph resource",
    Unmanageable.MANAGED_IDENTITY: "a managed identity",
    Unmanageable.NOT_AN_APPLICATION: "not backed by an application registration",
    Unmanageable.PIM_WARDEN_ITSELF: "PIM Warden's own service principal",
}


@dataclass(frozen=True)
class Refused:
    """The verdict on a service principal that may not be managed."""

    code: Unmanageable

    @property
    def message(self) -> str:
        return f"PIM Warden never manages this service principal: it is {_WHY[self.code]}"


def manageability(sp: ServicePrincipal, own_ids: Collection[str] = ()) -> Refused | None:
    """None when `sp` may be managed, else why not. `own_ids`: PIM Warden's own service principal ids."""
    if str(sp.id).lower() in {i.lower() for i in own_ids}:
        return Refused(Unmanageable.PIM_WARDEN_ITSELF)
    if str(sp.app_id).lower() == MICROSOFT_GRAPH_APP_ID:
        return Refused(Unmanageable.MICROSOFT_GRAPH)
    if (sp.app_owner_organization_id or "").lower() in MICROSOFT_OWNER_TENANTS:
        return Refused(Unmanageable.MICROSOFT_FIRST_PARTY)
    if sp.service_principal_type == MANAGED_IDENTITY_TYPE:
        return Refused(Unmanageable.MANAGED_IDENTITY)
    if sp.service_principal_type != APPLICATION_TYPE:
        return Refused(Unmanageable.NOT_AN_APPLICATION)
    return None

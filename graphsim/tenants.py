"""Ready-made tenants: `empty`, `demo` (a handful of Private Access apps, users, an operator, a
break-glass account, a guest, and two HighValue-tagged service principals PIM Warden must refuse:
Microsoft's Exchange Online and a managed identity) and `generate:N` (N apps with realistic names
and tags, for benchmarks).

Why Graph JSON: tenants are just /_sim/seed bodies, so a demo tenant can be saved, edited and loaded
from a file with `--tenant PATH.json`.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from graphsim import microsoft_graph, seeding
from graphsim.state import Tenant

PRIVATE_ACCESS_TAGS = [
    "PrivateAccessNonWebApplication",
    "IsAccessibleViaZTNAClient",
    "HideApp",
    "WindowsAzureActiveDirectoryIntegratedApp",
]
MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # owner of Microsoft's first-party apps
_WORDS = [
    "Finance",
    "Payroll",
    "Ledger",
    "HR",
    "Legal",
    "Treasury",
    "Billing",
    "Inventory",
    "Claims",
    "Trading",
    "Risk",
    "Audit",
    "Warehouse",
    "Logistics",
    "Research",
    "Clinical",
    "Pricing",
    "Vendor",
    "Tax",
    "Sales",
]
_KINDS = ["Reports", "SQL", "RDP", "SSH", "File Share", "ERP", "Portal", "Jump Host", "Database", "API"]


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _app(rng: random.Random, name: str, high_value: bool, **extra: Any) -> dict[str, Any]:
    tags = list(PRIVATE_ACCESS_TAGS) + (["HighValue"] if high_value else [])
    return {
        "id": _guid(rng),
        "appId": _guid(rng),
        "displayName": name,
        "appDisplayName": name,
        "tags": tags,
        "appRoleAssignmentRequired": False,
        "appRoles": [],
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appOwnerOrganizationId": "84841066-274d-4ec0-a5c1-276be684bdd3",
        **extra,
    }


def _user(rng: random.Random, given: str, surname: str, upn: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": _guid(rng),
        "displayName": f"{given} {surname}".strip(),
        "givenName": given,
        "surname": surname,
        "userPrincipalName": upn,
        "mail": upn if "#EXT#" not in upn else None,
        "businessPhones": [],
        "jobTitle": None,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "accountEnabled": True,
        "userType": "Member",
        **extra,
    }


def demo() -> dict[str, Any]:
    """The demo tenant as a seed body."""
    rng = random.Random(42)
    role = {
        "allowedMemberTypes": ["User"],
        "description": "Operators of the trading desk",
        "displayName": "Operator",
        "id": _guid(rng),
        "isEnabled": True,
        "origin": "Application",
        "value": "Trading.Operator",
    }
    apps = [
        _app(rng, "FinReport SQL", True),
        _app(rng, "Payroll RDP Jump Host", True, appRoleAssignmentRequired=True),
        _app(rng, "Trading Desk Portal", True, appRoles=[role]),
        _app(
            rng,
            "Clinical Records Share",
            False,
            customSecurityAttributes={
                "Applications": {
                    "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
                    "Tier": "HighValue",
                }
            },
        ),
        _app(rng, "Warehouse SSH", False),
        {**_app(rng, "Intranet Wiki", False), "tags": ["WindowsAzureActiveDirectoryIntegratedApp"]},
    ]
    domain = "contoso.onmicrosoft.com"
    users = [
        _user(rng, "Ada", "Lovelace", f"ada@{domain}", jobTitle="Senior Analyst"),
        _user(rng, "Grace", "Hopper", f"grace@{domain}", jobTitle="Trader"),
        _user(rng, "Olive", "Operator", f"operator@{domain}", jobTitle="Platform Operator"),
        _user(rng, "Break", "Glass", f"breakglass@{domain}", jobTitle="Emergency access"),
        _user(rng, "Gus", "Guest", f"gus_fabrikam.com#EXT#@{domain}", userType="Guest"),
    ]
    # Microsoft Graph itself (the resource of application permissions) and PIM Warden's own identity.
    apps += [microsoft_graph.service_principal(), microsoft_graph.pim_warden_dev_identity()]
    return {"users": users, "servicePrincipals": apps + _never_managed(rng)}


def _never_managed(rng: random.Random) -> list[dict[str, Any]]:
    """Service principals someone tagged HighValue that PIM Warden must refuse: Microsoft's first-party
    Exchange Online (registered in Microsoft's tenant) and a managed identity (made after the users, so
    the ids above stay as they were)."""
    exchange = _app(
        rng, "Office 365 Exchange Online", True,
        appId="00000002-0000-0ff1-ce00-000000000000",
        appOwnerOrganizationId=MICROSOFT_SERVICES_TENANT,
        tags=["HighValue"],
    )
    identity = _app(
        rng, "payroll-sync-identity", True,
        servicePrincipalType="ManagedIdentity",
        appOwnerOrganizationId=None,
        tags=["HighValue"],
    )
    return [exchange, identity]


def generate(count: int, seed: int = 7) -> dict[str, Any]:
    """N Private Access apps with realistic names and tags (about 1 in 10 high value)."""
    rng = random.Random(seed)
    apps = []
    for i in range(count):
        name = f"{rng.choice(_WORDS)} {rng.choice(_KINDS)} {i:05d}"
        apps.append(_app(rng, name, high_value=rng.random() < 0.1))
    return {"servicePrincipals": apps}


def load(spec: str) -> Tenant:
    """A tenant from `empty`, `demo`, `generate:N` or a path to a seed JSON file."""
    tenant = Tenant()
    body: dict[str, Any]
    if spec == "empty":
        return tenant
    if spec == "demo":
        body = demo()
    elif spec.startswith("generate:"):
        body = generate(int(spec.split(":", 1)[1]))
    else:
        body = json.loads(Path(spec).read_text())
    seeding.seed(tenant, body)
    return tenant

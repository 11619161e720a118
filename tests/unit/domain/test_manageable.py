"""What may be managed at all: one pure rule, every refusal with its code."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.domain.ids import AppId, ServicePrincipalId
from shared.domain.manageable import Unmanageable, manageability
from shared.domain.model import ServicePrincipal

CUSTOMER = "84841066-274d-4ec0-a5c1-276be684bdd3"
APP = ServicePrincipal(
    ServicePrincipalId("0b6d4e1c-7a0f-4f65-9d0b-6c1f0b2e9a11"),
    AppId("5a1c0e7d-3b7e-4e0b-8c55-0f3a9d3e2b10"),
    "FinReport SQL",
    app_owner_organization_id=CUSTOMER,
    service_principal_type="Application",
)
OWN = "7d3c2b1a-0000-4000-8000-00000000beef"


def test_the_customers_own_application_may_be_managed() -> None:
    assert manageability(APP, own_ids=[OWN]) is None
    assert manageability(replace(APP, app_owner_organization_id=None)) is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"app_owner_organization_id": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"}, "microsoft_first_party_app"),
        ({"app_owner_organization_id": "F8CDEF31-A31E-4B4A-93E4-5F571E91255A"}, "microsoft_first_party_app"),
        ({"app_owner_organization_id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "microsoft_first_party_app"),
        ({"app_id": AppId("00000003-0000-0000-c000-000000000000")}, "microsoft_graph_resource"),
        ({"service_principal_type": "ManagedIdentity"}, "managed_identity"),
        ({"service_principal_type": "Legacy"}, "not_an_application"),
        ({"service_principal_type": "SocialIdp"}, "not_an_application"),
        ({"service_principal_type": None}, "not_an_application"),
        ({"id": ServicePrincipalId(OWN.upper())}, "pim_warden_itself"),
    ],
)
def test_refused_service_principals_name_why(changes: dict[str, object], code: str) -> None:
    refused = manageability(replace(APP, **changes), own_ids=[OWN])  # type: ignore[arg-type]
    assert refused is not None and refused.code == Unmanageable(code)
    assert refused.code.value == code and "never manages" in refused.message

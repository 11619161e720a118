"""The permission status health shows: the refused call and the permissions to grant, never Graph's
message."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.graph.errors import PermissionMissingError
from shared.permissions.status import UNREADABLE_REFUSAL, PermissionStatus, shown_refusal

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = "Insufficient privileges for alice@contoso.com on 'Payroll (HR)': grant Directory.ReadWrite.All"


def refusal(call: str = "GET /servicePrincipals/{servicePrincipal-id}") -> str:
    error = PermissionMissingError(403, "Authorization_RequestDenied", SECRET, request_id="req-42")
    return str(error.naming(call, ("Application.Read.All",)) if call else error)


def test_a_refusal_shows_the_call_and_the_permission_only() -> None:
    assert shown_refusal(refusal()) == (
        "permission missing for GET /servicePrincipals/{servicePrincipal-id}: grant Application.Read.All"
    )
    assert shown_refusal(refusal("")) == "permission missing: grant see the permission manifest"
    assert shown_refusal(shown_refusal(refusal())) == shown_refusal(refusal())  # stable once shown


def test_text_of_another_shape_is_not_shown() -> None:
    assert shown_refusal(f"Graph 403 Authorization_RequestDenied: {SECRET}") == UNREADABLE_REFUSAL


def test_the_status_never_carries_graphs_message() -> None:
    status = PermissionStatus(NOW, ("Application.Read.All",), (refusal(), refusal()))
    shown = status.as_dict()
    assert shown["refused"] == [
        "permission missing for GET /servicePrincipals/{servicePrincipal-id}: grant Application.Read.All"
    ]
    text = repr(shown)
    assert "alice@contoso.com" not in text and "Authorization_RequestDenied" not in text
    assert "req-42" not in text and "Directory.ReadWrite.All" not in text

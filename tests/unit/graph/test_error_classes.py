"""Which Graph answers the gateway treats as done, as retryable, as not-yet-visible, or as refusals."""

from __future__ import annotations

import pytest

from shared.graph.errors import (
    ConflictError,
    GraphError,
    NotFoundError,
    PermanentGraphError,
    PermissionMissingError,
    ThrottledError,
    TransientGraphError,
    classify,
)

CASES = [
    (429, "TooManyRequests", "Please retry again later.", ThrottledError),
    (503, "serviceNotAvailable", "", TransientGraphError),
    (504, "gatewayTimeout", "", TransientGraphError),
    (0, "networkError", "ConnectError", TransientGraphError),
    (404, "Request_ResourceNotFound", "Resource 'x' does not exist", NotFoundError),
    (
        400,
        "Request_BadRequest",
        "The source resource object or one of the objects being referenced don't exist.",
        NotFoundError,
    ),
    (400, "RoleAssignmentExists", "The Role assignment already exists.", ConflictError),
    (400, "Request_BadRequest", "Permission being assigned already exists on the object", ConflictError),
    # Someone else's object holds the name: a refusal, never "already done".
    (
        400,
        "Request_BadRequest",
        "Another object with the same value for property mailNickname already exists.",
        PermanentGraphError,
    ),
    (
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        "An object with the same uniqueName already exists.",
        PermanentGraphError,
    ),
    (
        400,
        "RoleAssignmentRequestPolicyValidationFailed",
        'The following policy rules failed: ["ExpirationRule"]',
        PermanentGraphError,
    ),
    # Each API family's answer to a missing application permission (graphsim/README.md, Permissions).
    (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        PermissionMissingError,
    ),
    (
        403,
        "Authentication_MSGraphPermissionMissing",
        "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        PermissionMissingError,
    ),
    (
        403,
        "UnknownError",
        '{"errorCode":"PermissionScopeNotGranted","message":"Authorization failed due to missing permission '
        'scope PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup.","instanceAnnotations":[]}',
        PermissionMissingError,
    ),
    (403, "Forbidden", "Some other refusal.", PermanentGraphError),
]


@pytest.mark.parametrize(("status", "code", "message", "expected"), CASES)
def test_classify(status: int, code: str, message: str, expected: type[GraphError]) -> None:
    error = classify(status, code, message, request_id="r-1", retry_after_s=2.5)
    assert type(error) is expected
    assert (error.status, error.code, error.request_id) == (status, code, "r-1")


def test_throttled_keeps_retry_after() -> None:
    error = classify(429, "TooManyRequests", "", retry_after_s=2.128)
    assert isinstance(error, ThrottledError) and error.retry_after_s == 2.128


def test_a_permission_refusal_names_the_call_and_what_to_grant() -> None:
    error = classify(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    assert isinstance(error, PermissionMissingError) and isinstance(error, PermanentGraphError)
    named = error.naming("GET /users/{user-id}", ("Directory.Read.All",))
    assert named.permissions == ("Directory.Read.All",) and named.status == 403
    assert str(named).startswith("permission missing for GET /users/{user-id}: grant Directory.Read.All")
    assert "Authorization_RequestDenied" in str(named)

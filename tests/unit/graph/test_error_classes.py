"""Which Graph answers the gateway treats as done, as retryable, as not-yet-visible, or as refusals."""

from __future__ import annotations

import pytest

from shared.graph.errors import (
    ConflictError,
    GraphError,
    NotFoundError,
    PermanentGraphError,
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
    (
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        PermanentGraphError,
    ),
]


@pytest.mark.parametrize(("status", "code", "message", "expected"), CASES)
def test_classify(status: int, code: str, message: str, expected: type[GraphError]) -> None:
    error = classify(status, code, message, request_id="r-1", retry_after_s=2.5)
    assert type(error) is expected
    assert (error.status, error.code, error.request_id) == (status, code, "r-1")


def test_throttled_keeps_retry_after() -> None:
    error = classify(429, "TooManyRequests", "", retry_after_s=2.128)
    assert isinstance(error, ThrottledError) and error.retry_after_s == 2.128

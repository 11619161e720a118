"""`unavailable_for`: a missing Graph permission is `permission_missing` naming it, not an outage."""

from __future__ import annotations

import pytest

from shared.api.answers import unavailable_for
from shared.graph.errors import (
    GraphError,
    NotFoundError,
    PermanentGraphError,
    PermissionMissingError,
    ThrottledError,
    TransientGraphError,
)


def test_a_missing_permission_answers_permission_missing_naming_it() -> None:
    error = PermissionMissingError(403, "Authorization_RequestDenied", "Insufficient privileges").naming(
        "GET /users/{user-id}", ("User.Read.All",)
    )
    refusal = unavailable_for(error)
    assert refusal.status == 503 and refusal.error_code == "permission_missing"
    assert "User.Read.All" in refusal.message and "GET /users/{user-id}" in refusal.message
    assert refusal.headers.get("Retry-After")


@pytest.mark.parametrize(
    "error",
    [
        GraphError(400, "BadRequest", "bad"),
        TransientGraphError(503, "ServiceUnavailable", "down"),
        ThrottledError(429, "TooManyRequests", "slow down", retry_after_s=5),
        NotFoundError(404, "Request_ResourceNotFound", "gone"),
        PermanentGraphError(403, "Forbidden", "policy"),
    ],
)
def test_any_other_graph_error_is_directory_unavailable(error: GraphError) -> None:
    refusal = unavailable_for(error)
    assert refusal.status == 503 and refusal.error_code == "directory_unavailable"


def test_anything_else_is_storage_unavailable() -> None:
    assert unavailable_for(OSError("disk")).error_code == "storage_unavailable"

"""What can go wrong when PIM Warden talks to Microsoft Graph, as one small tree.

    GraphError                      the request failed (carries Graph's code, status, request id)
    ├── TransientGraphError         try again later: 429 throttling, 5xx, network failures
    │   └── ThrottledError          429, with the Retry-After Graph asked for
    ├── NotFoundError               404: the object is gone or not visible yet (replication delay)
    ├── ConflictError               the change already exists (duplicate assignment, RoleAssignmentExists)
    └── PermanentGraphError         a 4xx that retrying will not fix (bad request, forbidden, policy refusal)
        └── PermissionMissingError  403 for an application permission PIM Warden was not granted

The executor decides per class: transient -> retry within the run budget, then next tick;
conflict -> treat as already done; not found -> wait for replication or re-plan; permanent -> record and
move on to the next app. Messages hold Graph's code and message, never a token or a request body.
"""

from __future__ import annotations


class GraphError(Exception):
    """A Graph request failed."""

    def __init__(self, status: int, code: str, message: str, *, request_id: str = "") -> None:
        super().__init__(
            f"Graph {status} {code}: {message}" + (f" (request-id {request_id})" if request_id else "")
        )
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


class TransientGraphError(GraphError):
    """Retrying later may succeed."""


class ThrottledError(TransientGraphError):
    """Graph answered 429; `retry_after_s` is how long it asked us to wait."""

    def __init__(
        self, status: int, code: str, message: str, *, request_id: str = "", retry_after_s: float
    ) -> None:
        super().__init__(status, code, message, request_id=request_id)
        self.retry_after_s = retry_after_s


class NotFoundError(GraphError):
    """The object does not exist, or is not visible yet."""


class ConflictError(GraphError):
    """What we asked for already exists; for an idempotent writer this is success."""


class PermanentGraphError(GraphError):
    """Graph refused the request; retrying the same request will not help."""


class PermissionMissingError(PermanentGraphError):
    """Graph refused the call for a missing application permission. `permissions` names what the
    permission manifest grants for this call (filled in by the gateway, which knows the call)."""

    def __init__(
        self, status: int, code: str, message: str, *, request_id: str = "",
        call: str = "", permissions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(status, code, message, request_id=request_id)
        self.call = call
        self.permissions = permissions

    def naming(self, call: str, permissions: tuple[str, ...]) -> PermissionMissingError:
        """The same refusal, naming the call and the manifest's permissions for it."""
        return PermissionMissingError(
            self.status, self.code, self.message,
            request_id=self.request_id, call=call, permissions=permissions,
        )

    def __str__(self) -> str:
        needed = ", ".join(self.permissions) or "see the permission manifest"
        where = f" for {self.call}" if self.call else ""
        return f"permission missing{where}: grant {needed} (Graph {self.status} {self.code}: {self.message})"


# 403 answers that mean "this application permission was not granted", per API family: directory objects
# (Authorization_RequestDenied), audit logs (Authentication_MSGraphPermissionMissing), PIM and role
# management policies (UnknownError wrapping PermissionScopeNotGranted).
_PERMISSION_CODES = frozenset({"Authorization_RequestDenied", "Authentication_MSGraphPermissionMissing"})
_PERMISSION_MARKERS = ("PermissionScopeNotGranted",)

# Graph's answers to a create that already happened, and only those: PIM's RoleAssignmentExists, and the
# app-role-assignment duplicate, which comes back as a plain Request_BadRequest recognised by its message
# (graph.md 5.1). Other "already exists" answers (a mailNickname or uniqueName taken by someone else) are
# real refusals, not success.
_CONFLICT_CODES = frozenset({"RoleAssignmentExists"})
_CONFLICT_MESSAGES = ("permission being assigned already exists on the object",)
# Just after a create, Graph refuses references to the new object with a 400 of this wording
# (learn group-update, "replication delay"): the object is not visible yet.
_NOT_VISIBLE_MESSAGES = ("objects being referenced don't exist", "does not exist or one of its queried")


def classify(
    status: int, code: str, message: str, *, request_id: str = "", retry_after_s: float = 0.0
) -> GraphError:
    """Turn Graph's status, code and message into the right GraphError subclass."""
    if status == 429:
        return ThrottledError(status, code, message, request_id=request_id, retry_after_s=retry_after_s)
    if status >= 500 or status in (0, 408, 424):
        return TransientGraphError(status, code, message, request_id=request_id)
    if status == 404:
        return NotFoundError(status, code, message, request_id=request_id)
    if status == 403 and _permission_refusal(code, message):
        return PermissionMissingError(status, code, message, request_id=request_id)
    lowered = message.lower()
    if status == 400 and any(m in lowered for m in _NOT_VISIBLE_MESSAGES):
        return NotFoundError(status, code, message, request_id=request_id)
    if code in _CONFLICT_CODES or any(m in lowered for m in _CONFLICT_MESSAGES):
        return ConflictError(status, code, message, request_id=request_id)
    return PermanentGraphError(status, code, message, request_id=request_id)


def _permission_refusal(code: str, message: str) -> bool:
    return code in _PERMISSION_CODES or any(m in f"{code} {message}" for m in _PERMISSION_MARKERS)

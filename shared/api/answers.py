"""What every HTTP service returns: a status, a JSON body and headers; and the refusal that becomes one.

`Refusal` is raised anywhere along a request's path and caught once at the top, so each check reads as
one line. Bodies carry a machine-readable `error_code` and a short message, never a secret, a token or
the request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.graph.errors import GraphError, PermissionMissingError

RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as plain data."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """A request stops here with `status` and a machine-readable `error_code`."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body of the refusal."""
        body: dict[str, Any] = {"error_code": self.error_code}
        if self.message:
            body["message"] = self.message
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def answer(self) -> Answer:
        """The refusal as an Answer."""
        return Answer(self.status, self.body(), self.headers)


def permission_missing(error: Exception) -> Refusal:
    """503 naming the application permission PIM Warden lacks (an operator must grant it; the sender
    may retry once it is granted). The text is the gateway's: the call and the manifest permission."""
    return Refusal(503, "permission_missing", str(error), headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def unavailable(error_code: str = "storage_unavailable", message: str = "try again later") -> Refusal:
    """503 with Retry-After: nothing was recorded (or the work is in flight); the sender should retry."""
    return Refusal(503, error_code, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def unavailable_for(error: Exception) -> Refusal:
    """503 naming what is wrong: a Graph permission PIM Warden lacks (`permission_missing`), Microsoft
    Graph being down (`directory_unavailable`) or storage."""
    if isinstance(error, PermissionMissingError):
        return permission_missing(error)
    if isinstance(error, GraphError):
        return unavailable("directory_unavailable", "Microsoft Graph did not answer; try again later")
    return unavailable()

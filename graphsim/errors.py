"""Graph's error body, rendered exactly as Microsoft Graph v1.0 renders it.

{"error": {"code": "...", "message": "...", "innerError": {"date": "...", "request-id": "...",
"client-request-id": "..."}}} -- see docs-contrib concepts/errors.md.
"""

from __future__ import annotations

from typing import Any


class GraphError(Exception):
    """Raised anywhere in graphsim; the app turns it into Graph's error response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        inner: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner = inner or {}


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def not_found(message: str, code: str = "Request_ResourceNotFound") -> GraphError:
    return GraphError(404, code, message)

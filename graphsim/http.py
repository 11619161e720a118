"""The request/response values that handlers see: parsed, framework-free, no business logic.

Every handler (directory, PIM, policies, audit, batch) has the signature
    handler(req: SimRequest) -> SimResponse
and raises graphsim.errors.GraphError for Graph errors. The ASGI app (graphsim.app) parses HTTP
into SimRequest, finds the handler in the URL table, and serialises SimResponse / GraphError.
`$batch` builds SimRequests from its inner requests and calls the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SimRequest:
    method: str  # upper case
    path: str  # the part after /v1.0, e.g. "/groups/abc/members"
    params: Mapping[str, str]  # query parameters, URL-decoded ("$filter" -> "groupId eq 'x'")
    headers: Mapping[str, str]  # lower-case names
    body: Any  # parsed JSON (dict/list) or None when there is no body
    path_params: Mapping[str, str] = field(default_factory=dict)  # from the URL template
    base_url: str = "https://graph.microsoft.com/v1.0"  # for @odata.context / nextLink

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class SimResponse:
    status: int = 200
    body: Any = None  # JSON-able value; a str is sent as text/plain
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[SimRequest], SimResponse]


@dataclass(frozen=True)
class Route:
    """One line of a URL table. `template` uses {name} placeholders, matched per path segment,
    e.g. "/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests/{id}"."""

    method: str
    template: str
    handler: Handler
    name: str = ""  # a stable label for /_sim/stats; defaults to the template

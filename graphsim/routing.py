"""The URL table: match a method and a path (after /v1.0) to a Route and its path parameters.

Why regexes per template: Graph paths mix plain segments with OData key syntax
(`groups(uniqueName='x')`, `servicePrincipals(appId='x')`, `delta()`, `$count`, `$ref`), and are
case-insensitive. Routes are bucketed by first segment so a lookup tries only a handful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphsim.errors import GraphError
from graphsim.http import Route

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Compiled:
    route: Route
    pattern: re.Pattern[str]
    params: int


def _first_segment(template: str) -> str:
    head = template.strip("/").split("/", 1)[0]
    return re.split(r"[({]", head, maxsplit=1)[0].lower()


def _compile(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+?)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}/?$", re.IGNORECASE)


class Router:
    """Routes by method and path template; static templates win over parameterised ones."""

    def __init__(self, routes: list[Route] | None = None) -> None:
        self._buckets: dict[str, list[_Compiled]] = {}
        for route in routes or []:
            self.add(route)

    def add(self, route: Route) -> None:
        """Add one line to the table."""
        compiled = _Compiled(route, _compile(route.template), len(_PARAM.findall(route.template)))
        bucket = self._buckets.setdefault(_first_segment(route.template), [])
        bucket.append(compiled)
        bucket.sort(key=lambda c: c.params)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and path parameters, or Graph's 400/405."""
        allowed = False
        for compiled in self._buckets.get(_first_segment(path), []):
            m = compiled.pattern.match(path)
            if m is None:
                continue
            if compiled.route.method == method:
                return compiled.route, {k: _unquote_key(v) for k, v in m.groupdict().items()}
            allowed = True
        if allowed:
            raise GraphError(
                405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
            )
        segment = path.strip("/").split("/")[-1] or path
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def _unquote_key(value: str) -> str:
    return value.replace("''", "'")

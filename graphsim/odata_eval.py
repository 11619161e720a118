"""Evaluation closures for compiled OData $filter expressions (see odata_filter for the parser).

Why closures: a filter is compiled once and run over tens of thousands of objects; each node is a
small function of (object, lambda variables), with Graph's case-insensitive string comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

Env = dict[str, Any]
Expr = Callable[[Any, Env], Any]


def truthy(value: Any) -> bool:
    """Only a real True passes a filter (null and non-booleans do not)."""
    return value is True


def constant(value: Any) -> Expr:
    """A literal value."""
    return lambda o, env: value


def or_(a: Expr, b: Expr) -> Expr:
    return lambda o, env: truthy(a(o, env)) or truthy(b(o, env))


def and_(a: Expr, b: Expr) -> Expr:
    return lambda o, env: truthy(a(o, env)) and truthy(b(o, env))


def _get(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if key in obj:
        return obj[key]
    low = key.lower()
    for k, v in obj.items():
        if k.lower() == low:
            return v
    return None


def path(segments: list[str], root_is_var: bool) -> Expr:
    head, rest = segments[0], segments[1:]

    def resolve(obj: Any, env: Env) -> Any:
        value = env[head] if root_is_var else _get(obj, head)
        for seg in rest:
            value = _get(value, seg)
        return value

    return resolve


def lambda_(kind: str, var: str, collection: Expr, body: Expr) -> Expr:
    def run(obj: Any, env: Env) -> bool:
        items = collection(obj, env)
        if not isinstance(items, list):
            return kind == "all"

        def test(item: Any) -> bool:
            return truthy(body(obj, {**env, var: item}))

        return any(map(test, items)) if kind == "any" else all(map(test, items))

    return run


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 UTC datetime the way Graph writes them (Z or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _normalise(a: Any, b: Any, case_sensitive: bool) -> tuple[Any, Any]:
    if isinstance(b, datetime) and isinstance(a, str):
        try:
            return parse_datetime(a), b
        except ValueError:
            return a, b
    if isinstance(a, datetime) and isinstance(b, str):
        b2, a2 = _normalise(b, a, case_sensitive)
        return a2, b2
    if isinstance(a, str) and isinstance(b, str) and not case_sensitive:
        return a.casefold(), b.casefold()
    return a, b


def compare(op: str, left: Expr, right: Expr, case_sensitive: bool) -> Expr:
    def run(obj: Any, env: Env) -> bool:
        a, b = _normalise(left(obj, env), right(obj, env), case_sensitive)
        if op == "eq":
            return bool(a == b)
        if op == "ne":
            return bool(a != b)
        if a is None or b is None:
            return False
        try:
            return bool(_ORDER[op](a, b))
        except TypeError:
            return False

    return run


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def in_(left: Expr, items: list[Expr]) -> Expr:
    def run(obj: Any, env: Env) -> bool:
        a = left(obj, env)
        for item in items:
            x, y = _normalise(a, item(obj, env), False)
            if x == y:
                return True
        return False

    return run


def string_function(name: str, subject: Expr, arg: Expr) -> Expr:
    def run(obj: Any, env: Env) -> bool:
        s, a = subject(obj, env), arg(obj, env)
        if not isinstance(s, str) or not isinstance(a, str):
            return False
        s, a = s.casefold(), a.casefold()
        if name == "startswith":
            return s.startswith(a)
        if name == "endswith":
            return s.endswith(a)
        return a in s

    return run

"""The OData query forms the PIM and policy list APIs document: $filter, $select, $expand.

The documented filters are conjunctions of equality tests (`groupId eq '…' and principalId eq '…'`,
`scopeId eq '…' and scopeType eq 'Group' and roleDefinitionId eq 'owner'`), so that is what this
parser reads, with `ne` and `or` refused clearly (400) rather than guessed. The lists need the
clauses as data, not only as a predicate: which scope a request names decides whether Graph
answers at all. Graph also accepts the parameters without the `$` (the docs show `?filter=`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphsim.pim.values import bad_request
from graphsim.schema import check_select

_CLAUSE = re.compile(
    r"^\s*([A-Za-z_][\w/]*)\s+(eq|ne)\s+('(?:[^']|'')*'|true|false|null|[-\w.:]+)\s*$", re.IGNORECASE
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """One `property op value` test."""

    prop: str
    op: str
    value: Any

    def test(self, item: Mapping[str, Any]) -> bool:
        """Apply the clause to one JSON object (case-insensitive on strings, as Graph's eq is)."""
        actual: Any = item
        for part in self.prop.split("/"):
            actual = actual.get(part) if isinstance(actual, Mapping) else None
        same = (
            actual.lower() == self.value.lower()
            if isinstance(actual, str) and isinstance(self.value, str)
            else actual == self.value
        )
        return same if self.op == "eq" else not same


def param(params: Mapping[str, str], name: str) -> str | None:
    """A query option, with or without its `$`."""
    return params.get(f"${name}", params.get(name))


def parse_filter(text: str | None) -> list[Clause]:
    """Split a conjunctive $filter into clauses; 400 on anything else."""
    if text is None or not text.strip():
        return []
    clauses = []
    for part in _split_and(text.strip()):
        part = part.strip()
        if part.startswith("(") and part.endswith(")"):
            clauses += parse_filter(part[1:-1])
            continue
        match = _CLAUSE.match(part)
        if match is None:
            raise bad_request(f"Invalid filter clause: '{part}'.", code="BadRequest")
        clauses.append(Clause(match.group(1), match.group(2).lower(), _literal(match.group(3))))
    return clauses


def scope(clauses: list[Clause], prop: str) -> str | None:
    """The value an `eq` clause gives `prop`, if any."""
    for clause in clauses:
        if clause.prop.lower() == prop.lower() and clause.op == "eq" and isinstance(clause.value, str):
            return clause.value
    return None


def matches(clauses: list[Clause], item: Mapping[str, Any]) -> bool:
    """True when every clause holds for `item`."""
    return all(clause.test(item) for clause in clauses)


def select(
    items: list[dict[str, Any]], text: str | None, entity_set: str = ""
) -> tuple[list[dict[str, Any]], str]:
    """Apply $select (400 on a name `entity_set`'s type lacks); returns items and the `(a,b)` suffix."""
    if not text:
        return items, ""
    fields = [f.strip() for f in text.split(",") if f.strip()]
    check_select(fields, entity_set)
    return [{k: item[k] for k in fields if k in item} for item in items], "(" + ",".join(fields) + ")"


def expand_names(text: str | None) -> dict[str, str]:
    """Top-level $expand names mapped to their nested options: 'policy($expand=rules)' -> {'policy': ...}."""
    if not text:
        return {}
    out: dict[str, str] = {}
    depth, start = 0, 0
    for i, ch in enumerate(text + ","):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            item = text[start:i].strip()
            name, _, rest = item.partition("(")
            out[name.strip()] = rest[:-1] if rest.endswith(")") else rest
            start = i + 1
    return out


def _split_and(text: str) -> list[str]:
    """Split on top-level `and` (outside quotes and parentheses); refuse top-level `or`."""
    parts: list[str] = []
    buf: list[str] = []
    quoted, depth, i = False, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
        elif not quoted and depth == 0 and ch.isspace():
            joiner = re.match(r"\s+(and|or)\s+", text[i:], re.IGNORECASE)
            if joiner is not None:
                if joiner.group(1).lower() == "or":
                    raise bad_request("Only 'and' of equality tests is supported in this $filter.")
                parts.append("".join(buf))
                buf, i = [], i + joiner.end()
                continue
        buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return token

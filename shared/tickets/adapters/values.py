"""Unwrapping the value shapes ticket systems use for one logical field.

ServiceNow's Table API returns a reference as `{"link": ..., "value": sys_id}`, and with
`sysparm_display_value=all` (and the Change Management API) every field as `{"display_value": ...,
"value": ...}`, numbers there as JSON numbers (`3.0`). Jira returns a
select option as `{"value": ...}`, a user picker as `{"accountId": ..., "emailAddress": ...}`, and
multi-selects as lists. These helpers reduce each to the plain text the adapters check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

SYS_ID = re.compile(r"[0-9a-f]{32}")


def scalar(value: object) -> object:
    """The plain value inside a ServiceNow reference / display-value object, else `value` itself."""
    if isinstance(value, Mapping):
        inner = value.get("value", value.get("display_value"))
        return inner if isinstance(inner, str | int | float) and not isinstance(inner, bool) else value
    return value


def choice_texts(value: object) -> tuple[str, ...]:
    """Every text a ServiceNow choice field carries: its value and, where the record has one (the Change
    Management API, `sysparm_display_value=all`), its display value (the label, e.g. "Closed")."""
    candidates = [value.get("value"), value.get("display_value")] if isinstance(value, Mapping) else [value]
    return tuple(t for t in (as_text(c) for c in candidates) if t is not None and t.strip())


def jira_value(value: object) -> object:
    """The text inside a Jira option or user object, or a single-element list of those."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
        value = value[0]
    if isinstance(value, Mapping):
        for key in ("emailAddress", "value", "name"):
            inner = value.get(key)
            if isinstance(inner, str) and inner:
                return inner
    return value


def as_text(value: object) -> str | None:
    """Strings as they are, integers as digits (a whole float too: the Change Management API sends
    choices as 3.0 or -1.0); anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    return value if isinstance(value, str) else None


def quoted(value: object, limit: int = 60) -> str:
    """A short, safely quoted rendering of an untrusted value for a reason or message."""
    text = as_text(value)
    if text is None:
        return "<" + type(value).__name__ + ">"
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def folded(values: Sequence[str]) -> frozenset[str]:
    """Case-insensitive set of configured values."""
    return frozenset(v.strip().casefold() for v in values)

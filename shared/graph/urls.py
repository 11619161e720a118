"""RFC 6570 expansion of msgraph-sdk's URL templates, fast for the values PIM Warden mostly sends.

kiota expands a request's template with std-uritemplate, which percent-encodes character by character:
a profile of cold onboarding put about a tenth of the engine's CPU there. Most values need no
encoding at all (object ids, property names, our base URL), and for those the expansion is plain
joining. Anything else (a value with a space or a quote, a prefix or explode modifier, a number,
an operator other than `+` and `?`) goes to std-uritemplate itself, so the URL is always the SDK's
(tests/unit/graph/test_request_urls.py compares both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stduritemplate import StdUriTemplate

_EXPRESSION = re.compile(r"\{([+?]?)([^{}]+)\}")
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]+\Z")  # encoded as themselves by every operator
_RESERVED = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]+\Z")  # `+` keeps these as they are


def expand(template: str, values: Mapping[str, Any]) -> str:
    """`template` expanded with `values`, exactly as std-uritemplate expands it."""
    out: list[str] = []
    position = 0
    for match in _EXPRESSION.finditer(template):
        piece = _expression(match.group(1), match.group(2).split(","), values)
        if piece is None:
            return str(StdUriTemplate.expand(template, dict(values)))
        out += (template[position:match.start()], piece)
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _expression(operator: str, names: list[str], values: Mapping[str, Any]) -> str | None:
    """One `{...}` expanded, or None when it needs std-uritemplate."""
    if operator != "?" and len(names) != 1:
        return None
    parts = []
    for name in names:
        value = values.get(name)
        if value is None:
            continue
        text = _plain(value, _RESERVED if operator == "+" else _UNRESERVED, lists=operator == "?")
        if text is None or name.endswith("*") or ":" in name:
            return None
        parts.append(f"{name}={text}" if operator == "?" else text)
    if operator != "?":
        return parts[0] if parts else ""
    return "?" + "&".join(parts) if parts else ""


def _plain(value: Any, allowed: re.Pattern[str], *, lists: bool) -> str | None:
    """The value's text when no character of it needs encoding; None otherwise."""
    if isinstance(value, str):
        return value if allowed.match(value) else None
    if lists and isinstance(value, list) and value and all(
        isinstance(item, str) and allowed.match(item) for item in value
    ):
        return ",".join(value)
    return None

"""Table Storage key escaping and size limits, checked before a request is sent.

Keys may not contain `/ \\ # ?` or control characters (U+0000-U+001F, U+007F-U+009F), and Azurite
does not enforce every service limit (it accepted 253 custom properties), so we check them ourselves.

Key escaping is reversible: each forbidden character, and the escape character `~` itself, becomes
`~` followed by two upper-case hex digits of its code point (all such characters are below U+0100).
So `a/b` is stored as `a~2Fb` and `~` as `~7E`. Escaping maps a prefix to a prefix, which keeps
`ge`/`lt` range queries on key prefixes working on the escaped strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

MAX_KEY_CHARS = 1024
MAX_PROPERTY_BYTES = 64 * 1024  # strings: UTF-16 encoded length
MAX_ENTITY_BYTES = 1024 * 1024
MAX_CUSTOM_PROPERTIES = 252
ESCAPE_CHAR = "~"

_FORBIDDEN_RE = re.compile(r"[/\\#?~\x00-\x1f\x7f-\x9f]")
_ESCAPED_RE = re.compile(r"~([0-9A-F]{2})")


def escape_key(key: str) -> str:
    """Make a key storable: forbidden characters and `~` become `~XX` (hex code point)."""
    return _FORBIDDEN_RE.sub(lambda m: f"{ESCAPE_CHAR}{ord(m.group()):02X}", key)


def unescape_key(stored: str) -> str:
    """Invert `escape_key`."""
    return _ESCAPED_RE.sub(lambda m: chr(int(m.group(1), 16)), stored)


def utf16_size(value: str) -> int:
    """Bytes the service counts for a string property (UTF-16)."""
    return len(value.encode("utf-16-le"))


def property_size(value: Any) -> int:
    """Approximate stored size of one property value, per the documented entity size formula."""
    if isinstance(value, str):
        return utf16_size(value) + 4
    if isinstance(value, bytes):
        return len(value) + 4
    if isinstance(value, bool):
        return 1
    if isinstance(value, datetime | int | float):
        return 8
    return 16


def oversized_key(key: str) -> str | None:
    """A reason when the escaped key is too long, else None."""
    if len(key) > MAX_KEY_CHARS:
        return f"key is {len(key)} characters after escaping; the limit is {MAX_KEY_CHARS}"
    return None


def oversized_properties(properties: Mapping[str, Any]) -> list[str]:
    """Reasons for every property or entity limit the properties break."""
    reasons = []
    for name, value in properties.items():
        size = utf16_size(value) if isinstance(value, str) else len(value) if isinstance(value, bytes) else 0
        if size > MAX_PROPERTY_BYTES:
            reasons.append(f"property {name!r} is {size} bytes; the limit is {MAX_PROPERTY_BYTES} (64 KiB)")
    if len(properties) > MAX_CUSTOM_PROPERTIES:
        reasons.append(f"{len(properties)} properties; the limit is {MAX_CUSTOM_PROPERTIES}")
    total = 4 + sum(8 + 2 * len(name) + property_size(v) for name, v in properties.items())
    if total > MAX_ENTITY_BYTES:
        reasons.append(f"entity is about {total} bytes; the limit is {MAX_ENTITY_BYTES} (1 MiB)")
    return reasons


def fit_text(value: str, limit: int = MAX_PROPERTY_BYTES) -> tuple[str, bool]:
    """Truncate text to fit `limit` UTF-16 bytes, appending a marker; returns (text, truncated)."""
    if utf16_size(value) <= limit:
        return value, False
    marker = f"...[truncated by PIM Warden; original {utf16_size(value)} bytes]"
    budget = (limit - utf16_size(marker)) // 2
    cut = value[:budget]
    while utf16_size(cut) > limit - utf16_size(marker):  # astral characters take 4 bytes
        cut = cut[:-1]
    return cut + marker, True


def to_json(value: Any) -> str:
    """Deterministic JSON text for a stored document."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

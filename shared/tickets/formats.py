"""The value formats ticket payloads may use, written once for the code and the JSON Schema.

The regular expressions here are copied verbatim into docs/schemas/ticket-generic.schema.json; a
test checks they are identical, so the published contract and the code cannot drift apart. Checks
a regular expression cannot express (a duration's total, a calendar date) are made in code only.
Every check uses `fullmatch`: Python's `$` would accept a trailing newline.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from shared.domain.durations import parse_duration

GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Entra allows A-Z a-z 0-9 ' . - _ ! # ^ ~ in a UPN (Graph user resource, userPrincipalName);
# guests look like `ann_contoso.com#EXT#@fabrikam.onmicrosoft.com`. At most 64 before the @.
UPN = (
    r"^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
UPN_MAX = 113
TICKET_SYSTEM = r"^[A-Za-z][A-Za-z0-9._-]{0,49}$"
TICKET_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
PROFILE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# Day-time durations only (as Graph's Edm.Duration and shared.domain.durations), at least one non-zero
# digit; years, months and weeks are refused because their length is ambiguous.
DURATION = (
    r"^P(?=[^1-9]*[1-9])(?:[0-9]{1,4}D)?"
    r"(?:T(?=[0-9])(?:[0-9]{1,5}H)?(?:[0-9]{1,6}M)?(?:[0-9]{1,7}S)?)?$"
)
DURATION_MAX = timedelta(days=3650)
DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
# One line of printable text with at least one non-space character.
TEXT = r"^(?=.*\S)[^\u0000-\u001f\u007f]+$"
JUSTIFICATION_MAX = 500

_COMPILED: dict[str, re.Pattern[str]] = {}


def matches(pattern: str, value: str) -> bool:
    """True when the whole of `value` matches `pattern` (a trailing newline never passes)."""
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = re.compile(pattern.removeprefix("^").removesuffix("$"))
    return compiled.fullmatch(value) is not None


def is_guid(value: str) -> bool:
    """A GUID in its 8-4-4-4-12 form (object ids and appIds)."""
    return matches(GUID, value)


def is_upn(value: str) -> bool:
    """A user principal name Entra could have issued."""
    return len(value) <= UPN_MAX and matches(UPN, value)


def is_principal(value: str) -> bool:
    """A user named by object id or UPN."""
    return is_guid(value) or is_upn(value)


def parse_strict_duration(value: str) -> timedelta:
    """Parse a contract duration (`PT8H`, `P30D`); ValueError when malformed, zero or over 3650 days."""
    if not matches(DURATION, value):
        raise ValueError("must be an ISO-8601 duration of days and time, such as PT8H or P30D")
    duration = parse_duration(value)
    if duration > DURATION_MAX:
        raise ValueError("must not exceed P3650D; use null for no expiry")
    return duration


def parse_strict_datetime(value: str) -> datetime:
    """Parse an RFC 3339 date-time with an offset; ValueError when malformed or not a real date."""
    if not matches(DATETIME, value):
        raise ValueError("must be an RFC 3339 date-time with an offset, such as 2026-05-01T08:00:00Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

"""The value formats ticket payloads may use, written once for the code and the JSON Schema.

The regular expressions here are copied verbatim into docs/schemas/ticket-generic.schema.json; a
test checks they are identical, so the published contract and the code cannot drift apart. Checks
a regular expression cannot express (a duration's total, a calendar date) are made in code only.
Every check uses `fullmatch`: Python's `$` would accept a trailing newline.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 or 9999-12-31T23:59:59-01:00 have no UTC time
        raise ValueError("is outside the range of representable times") from None


JIRA_DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:?[0-9]{2})$"
)


def parse_jira_timestamp(value: object) -> datetime | None:
    """A Jira webhook's `timestamp`: milliseconds since the epoch as Jira Cloud sends it (a number, or
    the same digits as a string), or a date-time with an offset as Jira's own date format writes it
    (`2024-02-18T15:20:11.662+0530`); None for anything else, or a time outside 2000-2999."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 14:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        stamp = datetime.fromtimestamp(value / 1000, UTC) if 0 < value < 10**14 else None
    elif isinstance(value, str) and len(value) <= 40 and matches(JIRA_DATETIME, value):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except (ValueError, OverflowError):
            stamp = None
    else:
        stamp = None
    return stamp if stamp is not None and 2000 <= stamp.year <= 2999 else None

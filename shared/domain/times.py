"""Graph's date-time values (Edm.DateTimeOffset) in and out: ONE parser, ONE formatter. Pure.

Graph writes its own timestamps to 100 ns, so seven fractional digits are common
(`2023-02-07T06:57:54.1633903Z`), trailing zeros are left out (`2022-04-12T14:44:50.287Z`) and a
whole second has no fraction at all (`2023-02-07T19:56:00Z`); an offset may stand where `Z` does.
Python keeps microseconds, so digits past the sixth are dropped (truncated, as Graph's own 100 ns
are below anything PIM decides on). Whatever comes in leaves as a timezone-aware UTC datetime:
a value without a zone is refused with `GraphTimeError`, never guessed, because one naive datetime
compared with an aware one stops a whole app's planning.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_FORM = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})$"
)


class GraphTimeError(ValueError):
    """A date-time from Graph that is not an ISO-8601 instant with a time zone."""


def parse_graph_time(text: str) -> datetime:
    """An aware UTC datetime from Graph's text; GraphTimeError for anything else (naive included)."""
    match = _FORM.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise GraphTimeError(f"{text!r} is not a date-time with a time zone such as 2023-02-07T06:57:54Z")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        base = datetime.fromisoformat(f"{match['date']}T{match['time']}")
    except ValueError as error:
        raise GraphTimeError(f"{text!r} is not a valid date-time: {error}") from error
    try:
        return (base.replace(microsecond=int(fraction), tzinfo=_zone(match["zone"]))).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise GraphTimeError(f"{text!r} is out of range: {error}") from error


def parse_optional_graph_time(value: object) -> datetime | None:
    """`parse_graph_time` for an optional property: None (or "") stays None; any other text must parse."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise GraphTimeError(f"{value!r} is not date-time text")
    return parse_graph_time(value)


def format_graph_time(value: datetime) -> str:
    """An aware datetime as Graph takes it in bodies and $filter: UTC, whole seconds, `Z`.

    Whole seconds because $filter comparisons and schedule times need no more, and a fraction sent to
    Graph would come back in its own trimmed form; callers round a window's upper end up themselves.
    """
    if value.utcoffset() is None:
        raise GraphTimeError(f"{value!r} has no time zone; PIM Warden only sends UTC instants")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise GraphTimeError(f"offset {text!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))

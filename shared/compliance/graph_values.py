"""Tolerant readers for Graph JSON values: a missing or malformed field reads as None, never raises.

The collector maps whatever Graph returns; one odd entry must not stop a whole app's history, so
every lookup here checks types instead of trusting the shape. Date-times go through the one parser
of Graph's forms (shared/domain/times.py); here an unreadable one reads as None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.durations import format_duration, parse_duration
from shared.domain.times import GraphTimeError, parse_graph_time


def dig(data: object, *path: str) -> object:
    """The value at `path` in nested mappings, or None when any step is missing or not a mapping."""
    current = data
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def text(data: object, *path: str) -> str | None:
    """A non-empty string at `path`, else None."""
    value = dig(data, *path)
    return value if isinstance(value, str) and value != "" else None


def lower(data: object, *path: str) -> str:
    """The string at `path` lower-cased (Graph enums come in either case), '' when absent."""
    value = text(data, *path)
    return value.lower() if value else ""


def parse_time(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime or Graph date-time text; None if unreadable or naive."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.utcoffset() is not None else None
    if not isinstance(value, str):
        return None
    try:
        return parse_graph_time(value)
    except GraphTimeError:
        return None


def time_at(data: object, *path: str) -> datetime | None:
    """`parse_time` of the value at `path`."""
    return parse_time(dig(data, *path))


def duration_of(value: object) -> timedelta | None:
    """A timedelta from ISO-8601 duration text, None if absent or not a day-time duration."""
    if not isinstance(value, str):
        return None
    try:
        return parse_duration(value)
    except ValueError:
        return None


def iso_duration(value: timedelta | None) -> str | None:
    """Canonical ISO-8601 text for a non-negative timedelta, else None."""
    if value is None or value < timedelta(0):
        return None
    return format_duration(value)


def items(data: object, *path: str) -> Sequence[Any]:
    """The list at `path`, or an empty tuple."""
    value = dig(data, *path)
    return value if isinstance(value, list) else ()


def key_ci(data: object, *names: str) -> object:
    """The first of `names` present in a mapping, compared case-insensitively (docs write `Type`)."""
    if not isinstance(data, Mapping):
        return None
    folded = {str(k).lower(): v for k, v in data.items()}
    for name in names:
        if name.lower() in folded:
            return folded[name.lower()]
    return None

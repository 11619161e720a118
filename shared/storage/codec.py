"""Conversions between record fields and Table Storage property values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def utc(value: Any) -> datetime | None:
    """A stored Edm.DateTime (or None) as a plain timezone-aware UTC datetime."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                    moment.second, moment.microsecond, tzinfo=UTC)


def require_utc(value: Any) -> datetime:
    """Like `utc`, for a property that must be present."""
    moment = utc(value)
    if moment is None:
        raise TypeError("expected a datetime, got None")
    return moment


def aware(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes before they are stored (they would be read back as UTC silently)."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value


def text_map(raw: Any) -> dict[str, str]:
    """A JSON object of strings stored as text."""
    if not raw:
        return {}
    loaded = json.loads(raw)
    return {str(k): str(v) for k, v in loaded.items()}


def map_text(values: Mapping[str, str]) -> str:
    """Store a mapping of strings as deterministic JSON text."""
    return json.dumps(dict(sorted(values.items())), separators=(",", ":"))


def optional_str(raw: Any) -> str | None:
    """A nullable string property (Table Storage has no null; absent means None)."""
    return None if raw is None else str(raw)


def drop_none(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Table Storage cannot store null: absent properties stand for None."""
    return {k: v for k, v in properties.items() if v is not None}

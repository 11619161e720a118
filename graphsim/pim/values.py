"""Value parsing for PIM: enums, ISO-8601 durations and date-times, checked the way Graph checks them.

Graph accepts enum members in any case ("AdminAssign") and answers in camelCase ("adminAssign").
Durations are Edm.Duration: ISO-8601 day-time durations only ("PT30M", "P365D"). A Python
`timedelta` that msgraph-sdk serialises with str() ("0:30:00") is refused, and so are years and
months ("P1Y"), which Edm.Duration cannot express (see shared reference graph.md section 4.3).
Every failure raises GraphError 400, never anything else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from graphsim.errors import GraphError

ACTIONS = (
    "adminAssign",
    "adminUpdate",
    "adminRemove",
    "adminExtend",
    "adminRenew",
    "selfActivate",
    "selfDeactivate",
)
ACCESS_IDS = ("member", "owner")
EXPIRATION_TYPES = ("notSpecified", "noExpiration", "afterDateTime", "afterDuration")

_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    """A 400 in Graph's shape; PIM model errors use the generic OData code."""
    return GraphError(400, code, message)


def enum_value(value: Any, allowed: tuple[str, ...], name: str) -> str:
    """Match `value` case-insensitively against `allowed`; return the camelCase member."""
    if not isinstance(value, str):
        raise bad_request(f"Invalid value for '{name}': expected a string.")
    for member in allowed:
        if member.lower() == value.lower():
            return member
    raise bad_request(f"Requested value '{value}' was not found for '{name}'.")


def parse_duration(value: Any, name: str = "duration") -> timedelta:
    """Parse an ISO-8601 day-time duration; refuse anything else with 400."""
    if not isinstance(value, str):
        raise bad_request(f"Invalid value for '{name}': expected an ISO 8601 duration string.")
    match = _DURATION.match(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise bad_request(f"The value '{value}' of '{name}' is not a valid ISO 8601 duration (e.g. PT30M).")
    parts = {k: float(v) for k, v in match.groupdict(default="0").items()}
    return timedelta(
        weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]
    )


def format_duration(delta: timedelta) -> str:
    """Render a timedelta as Graph does: days as PnD, the rest as THMS."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{seconds}S" if seconds else "")
    )
    if clock:
        out += "T" + clock
    return out if out != "P" else "PT0S"


def parse_datetime(value: Any, name: str) -> datetime:
    """Parse an ISO-8601 date-time (naive values are taken as UTC); 400 when malformed."""
    if not isinstance(value, str):
        raise bad_request(f"Invalid value for '{name}': expected an ISO 8601 date-time string.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise bad_request(f"The value '{value}' of '{name}' is not a valid date-time.") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_datetime(value: datetime | None) -> str | None:
    """A date-time a caller gave, echoed as Graph does: trailing fraction zeros left out
    ('2023-02-07T19:56:00Z', '2022-04-12T14:44:50.287Z')."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    fraction = f"{value.microsecond:06d}".rstrip("0")
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def format_stamp(value: datetime) -> str:
    """A time PIM stamps itself (created, completed, a start it chose, an audit entry): Graph keeps
    these to 100 ns and writes seven digits ('2023-02-07T06:57:54.1633903Z'); the simulated clock
    has microseconds, so the seventh digit is 0."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond:06d}0Z"


def optional_str(body: dict[str, Any], key: str) -> str | None:
    """A string-or-null property; 400 for any other JSON type."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"Invalid value for '{key}': expected a string.")
    return value


def required_str(body: dict[str, Any], key: str) -> str:
    """A required, non-empty string property."""
    value = optional_str(body, key)
    if not value:
        raise bad_request(f"The property '{key}' is required.")
    return value


def optional_bool(body: dict[str, Any], key: str, default: bool = False) -> bool:
    """A boolean-or-null property; 400 for any other JSON type."""
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"Invalid value for '{key}': expected a boolean.")
    return value


def reject_unknown(body: dict[str, Any], allowed: set[str], what: str) -> None:
    """Graph refuses properties the type does not have; OData annotations are allowed."""
    for key in body:
        if key not in allowed and not key.startswith("@odata."):
            raise bad_request(f"The property '{key}' does not exist on type '{what}'.")

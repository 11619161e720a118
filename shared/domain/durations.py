"""ISO-8601 durations as Graph's Edm.Duration accepts them (days, hours, minutes, seconds).

Graph compares `PT30M` and `PT0H30M` as the same value; so do we. Years, months and weeks are
refused because their length is ambiguous (a policy written `P1M` cannot be checked against a cap).
"""

from __future__ import annotations

import re
from datetime import timedelta

_PATTERN = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 day-time duration such as `PT30M` or `P180D`; raise ValueError otherwise."""
    normal = str(text).strip().upper()
    match = _PATTERN.match(normal)
    parts = {} if match is None else {k: float(v) for k, v in match.groupdict().items() if v is not None}
    if not parts or normal.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO-8601 duration like PT30M, PT8H or P180D")
    return timedelta(
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def format_duration(value: timedelta) -> str:
    """Canonical ISO-8601 text for a non-negative duration: `PT30M`, `PT8H`, `P180D`, `P1DT2H`."""
    total = int(value.total_seconds())
    if total < 0:
        raise ValueError(f"negative duration {value!r}")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


def same_duration(left: object, right: object) -> bool:
    """True when both are durations of equal length (`PT30M` == `PT0H30M`); False if either is not."""
    try:
        return parse_duration(str(left)) == parse_duration(str(right))
    except ValueError:
        return False

"""ISO 8601 durations (`PT30M`, `P365D`, `P1DT2H`), the only form Graph's Edm.Duration accepts.

Why strict: msgraph-sdk serialises a Python timedelta as "0:30:00", which Graph refuses.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration; ValueError when it is not one."""
    m = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    return timedelta(**parts)


def format_duration(delta: timedelta) -> str:
    """Format a timedelta the way Graph writes durations (PT30M, P1DT2H)."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "" if days else "T0S")

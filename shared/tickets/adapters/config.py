"""Source mappings from a JSON app setting, checked field by field with messages an admin can act on.

Each adapter's configuration is a frozen dataclass with defaults; the setting
(`PIMWARDEN_TICKETS_<SOURCE>_MAPPING`) overrides some of them with a JSON object using the same
names. Unknown names and wrong types are refused, all at once, naming the setting.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, TypeVar

from shared.tickets.errors import ConfigError

T = TypeVar("T")


def load_config(cls: type[T], text: str | None, setting: str) -> T:
    """Build `cls` from defaults overridden by the JSON object in `text` (None or blank: defaults)."""
    if text is None or not text.strip():
        return _construct(cls, {}, setting)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(setting, [f"is not valid JSON ({error.msg} at character {error.pos})"]) from error
    if not isinstance(raw, dict):
        raise ConfigError(setting, ["must be a JSON object"])
    return _construct(cls, raw, setting)


def _construct(cls: type[T], raw: dict[str, Any], setting: str) -> T:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    known = ", ".join(sorted(names))
    problems = [f"unknown field {key!r} (known: {known})" for key in raw if key not in names]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in names:
            converted, problem = _convert(value, hints[key])
            if problem:
                problems.append(f"{key}: {problem}")
            else:
                values[key] = converted
    if not problems:
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            problems.append(str(error))
    raise ConfigError(setting, problems)


def _convert(value: Any, hint: Any) -> tuple[Any, str]:
    """Convert a JSON value to the field's type: str, str | None, bool, tuple[str, ...]."""
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,)
    if value is None:
        return (None, "") if type(None) in allowed else (None, "must not be null")
    if bool in allowed:
        return (value, "") if isinstance(value, bool) else (None, "must be true or false")
    if str in allowed:
        return (value, "") if isinstance(value, str) and value else (None, "must be a non-empty string")
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value), ""
    return None, "must be a list of non-empty strings"


_UnionType = type(int | None)

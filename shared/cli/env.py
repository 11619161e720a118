"""The CLI reads the same settings as the functions: the environment, completed from the "Values" of
local.settings.json when present (the environment wins), as `func start` would."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path


def cli_environment(
    path: Path = Path("local.settings.json"), env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment, plus local.settings.json values it lacks."""
    merged = dict(os.environ if env is None else env)
    if path.is_file():
        values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
        for name, value in values.items():
            if name not in merged and isinstance(value, str):
                merged[name] = value
    return merged


def apply_environment(values: Mapping[str, str]) -> None:
    """Make `values` the process environment (the runtime reads os.environ)."""
    for name, value in values.items():
        os.environ.setdefault(name, value)

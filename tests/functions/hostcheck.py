"""Host-loadable checks without Core Tools: index function_app.py as the Python worker does, then
apply the rules the worker and the host enforce later (see docs: functions reference, section 1).

`check_app(app_dir)` returns a list of problems (empty when loadable) and covers every function
registered now or later: parameter/binding names, `func.Out` vs direction, HTTP routes (no
`admin` prefix, unique method+route), 6-field timer schedules or %Setting%, every %Setting% and
`connection` named in local.settings.sample.json, and host.json against the SchemaStore schema.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
import jsonschema
from croniter import croniter

# SchemaStore's host.json schema, vendored beside this module (source, version and licence in
# vendor/README.md): the suite reads nothing outside the checkout.
SCHEMA = Path(__file__).resolve().parent / "vendor" / "host.json.schema.json"
SCRIPT_NAME_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_\-]*\.py$")
SETTING_RE = re.compile(r"%([^%]+)%")
OUT_RE = re.compile(r"\bOut\[")
CONNECTION_SUFFIXES = ("", "__tableServiceUri", "__queueServiceUri", "__blobServiceUri", "__accountName")


@dataclass(frozen=True)
class IndexedFunction:
    """What the host learns about one function."""

    name: str
    trigger_type: str
    bindings: tuple[dict[str, Any], ...]
    user_function: Any

    @property
    def trigger(self) -> dict[str, Any]:
        return next(b for b in self.bindings if b["type"] == self.trigger_type)


def load_module(app_dir: Path, script: str = "function_app.py") -> ModuleType:
    """Import the script the way the worker does (app root on sys.path, module named after the file)."""
    if not SCRIPT_NAME_RE.match(script):
        raise ValueError(f"{script!r} is not a valid PYTHON_SCRIPT_FILE_NAME")
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    return importlib.import_module(Path(script).stem)


def find_app(module: ModuleType) -> func.FunctionRegister:
    """The single top-level FunctionRegister; ValueError for none or more than one (as the worker)."""
    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    if len(apps) != 1:
        raise ValueError(f"expected exactly one top-level FunctionApp, found {len(apps)}")
    return apps[0]


def index(app: func.FunctionRegister) -> list[IndexedFunction]:
    """`get_functions()` as the worker calls it; resets the app so it can be indexed again."""
    app.functions_bindings = None  # get_functions() is stateful: a second call sees duplicate names
    try:
        functions = app.get_functions()
    finally:
        app.functions_bindings = None
    indexed = []
    for f in functions:
        bindings = tuple(json.loads(raw) for raw in f.get_raw_bindings())
        indexed.append(IndexedFunction(f.get_function_name(), str(f.get_trigger().type),
                                       bindings, f.get_user_function()))
    return indexed


def check_app(app_dir: Path, script: str = "function_app.py") -> list[str]:
    """Every reason the worker or host would refuse this app (empty when it would load)."""
    functions = index(find_app(load_module(app_dir, script)))
    sample = json.loads((app_dir / "local.settings.sample.json").read_text())["Values"]
    problems = check_host_json(app_dir / "host.json")
    problems += _duplicate_routes(functions)
    for f in functions:
        problems += [f"{f.name}: {p}" for p in _function_problems(f, sample)]
    return problems


def check_host_json(path: Path) -> list[str]:
    """host.json against the SchemaStore schema, plus the version and bundle range we rely on."""
    host = json.loads(path.read_text())
    schema = json.loads(SCHEMA.read_text())
    problems = [f"host.json: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(host)]
    if host.get("extensionBundle", {}).get("version") != "[4.*, 5.0.0)":
        problems.append("host.json: extension bundle must be [4.*, 5.0.0)")
    return problems


def _function_problems(f: IndexedFunction, sample: dict[str, str]) -> list[str]:
    problems = _parameter_problems(f)
    trigger = f.trigger
    if trigger["type"] == "httpTrigger":
        route = str(trigger.get("route", ""))
        if route.lower().startswith("admin"):
            problems.append(f"route {route!r} starts with 'admin' (reserved by the host)")
        if not trigger.get("methods"):
            problems.append("HTTP trigger without explicit methods")
    if trigger["type"] == "timerTrigger":
        problems += _schedule_problems(str(trigger.get("schedule", "")))
    for binding in f.bindings:
        for value in binding.values():
            for name in SETTING_RE.findall(value) if isinstance(value, str) else ():
                if name not in sample:
                    problems.append(f"%{name}% is not in local.settings.sample.json")
        connection = binding.get("connection")
        if connection and not any(connection + s in sample for s in CONNECTION_SUFFIXES):
            problems.append(f"connection {connection!r} is not in local.settings.sample.json")
    return problems


def _parameter_problems(f: IndexedFunction) -> list[str]:
    params = inspect.signature(f.user_function).parameters
    bound = {b["name"]: b for b in f.bindings if b["name"] != "$return"}
    problems = [f"parameter {p!r} has no binding" for p in params if p not in bound and p != "context"]
    problems += [f"binding {b!r} has no parameter" for b in bound if b not in params]
    for name, binding in bound.items():
        if name not in params:
            continue
        is_out = bool(OUT_RE.search(str(params[name].annotation)))
        if is_out != (binding["direction"] == "OUT"):
            problems.append(f"parameter {name!r}: func.Out annotation does not match {binding['direction']}")
    return problems


def _schedule_problems(schedule: str) -> list[str]:
    if SETTING_RE.fullmatch(schedule):
        return []
    if len(schedule.split()) != 6:
        return [f"timer schedule {schedule!r} must have 6 fields or be %Setting%"]
    if not croniter.is_valid(schedule, second_at_beginning=True):
        return [f"timer schedule {schedule!r} is not valid NCRONTAB"]
    return []


def _duplicate_routes(functions: list[IndexedFunction]) -> list[str]:
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for f in functions:
        trigger = f.trigger
        if trigger["type"] != "httpTrigger":
            continue
        for method in trigger.get("methods") or ["*"]:
            key = (str(method).upper(), str(trigger.get("route", "")).strip("/").lower())
            if key in seen:
                problems.append(f"{f.name}: {key[0]} {key[1]} is also served by {seen[key]}")
            seen[key] = f.name
    return problems

"""The parsed Bicep of infra/ (pycep) and a small evaluator for the expressions the templates use.

pycep turns a .bicep file into plain data; it writes a bare identifier and a string literal the same
way, so a string naming a parameter, variable, module or resource in scope is read as that symbol.
What only Azure knows at deployment (module outputs, `tenant()`, `guid()`...) evaluates to `Opaque`,
which remembers the expression path (`identity.outputs.principalId`) so tests can check wiring.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Opaque:
    """A value Azure computes at deployment; `path` is the expression that names it."""

    path: str

    def attr(self, name: str) -> Opaque:
        return Opaque(f"{self.path}.{name}")


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(path: Path) -> dict[str, Any]:
    """The pycep structure of one file (a syntax error raises with line and column)."""
    return BicepParser().parse(file_path=path)


def body(declaration: dict[str, Any]) -> dict[str, Any]:
    """A resource's or module's own properties, whether or not it has a condition or a loop."""
    config = declaration["config"]
    if "config" in config and ("condition" in config or "loop_type" in config):
        return config["config"]
    return config


def condition(declaration: dict[str, Any]) -> Any:
    return declaration["config"].get("condition")


def resources(path: Path, type_: str) -> dict[str, dict[str, Any]]:
    """Symbol -> declaration of every resource of `type_` in the file."""
    return {name: r for name, r in parse(path).get("resources", {}).items() if r["type"] == type_}


def unquote(key: str) -> str:
    return key[1:-1] if len(key) > 1 and key[0] == key[-1] == "'" else key


@dataclass
class Scope:
    """Evaluates expressions of one file with the given parameter values (defaults otherwise)."""

    path: Path
    given: dict[str, Any] = field(default_factory=dict)
    _locals: dict[str, Any] = field(default_factory=dict)

    @property
    def doc(self) -> dict[str, Any]:
        return parse(self.path)

    def lookup(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name in self.given:
            return self.given[name]
        if name in self.doc.get("parameters", {}):
            default = self.doc["parameters"][name]["default"]
            return Opaque(name) if default is None else self.eval(default)
        if name in self.doc.get("variables", {}):
            return self.eval(self.doc["variables"][name]["value"])
        return Opaque(name)

    def knows(self, name: str) -> bool:
        parts = ("parameters", "variables", "resources", "modules")
        in_doc = any(name in self.doc.get(part, {}) for part in parts)
        return in_doc or name in self._locals or name in self.given

    def eval(self, node: Any) -> Any:
        if isinstance(node, str):
            return self._string(node)
        if isinstance(node, list):
            return [self.eval(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "operator" in node:
            return self._operator(node["operator"]["type"], node["operator"]["operands"])
        if "function" in node:
            return self._function(node["function"]["type"], node["function"].get("parameters") or {})
        return {unquote(key): self.eval(value) for key, value in node.items()}

    def _string(self, text: str) -> Any:
        if self.knows(text):
            return self.lookup(text)
        if "${" not in text:
            return text
        parts = [self._path(m.group(1)) for m in _INTERPOLATION.finditer(text)]
        if any(isinstance(p, Opaque) for p in parts):
            return Opaque(text)
        values = iter(parts)
        return _INTERPOLATION.sub(lambda _: str(next(values)), text)

    def _path(self, expression: str) -> Any:
        if not _PATH.match(expression.strip()):
            return Opaque(expression)
        first, *rest = expression.strip().split(".")
        value = self.lookup(first)
        for name in rest:
            value = value.attr(name) if isinstance(value, Opaque) else value[name]
        return value

    def _access(self, base: Any, key: str) -> Any:
        return base.attr(key) if isinstance(base, Opaque) else base[key]

    def _operator(self, kind: str, operands: dict[str, Any]) -> Any:
        if kind in ("property_accessor", "index_accessor"):
            base = self.eval(operands["operand_1"])
            right = operands["operand_2"]
            while isinstance(right, dict) and right.get("operator", {}).get("type") == "property_accessor":
                inner = right["operator"]["operands"]
                base = self._access(base, inner["operand_1"])
                right = inner["operand_2"]
            return self._access(base, right)
        if kind == "equals":
            return self.eval(operands["operand_1"]) == self.eval(operands["operand_2"])
        if kind == "conditional":
            chosen = self.eval(operands["condition"])
            if isinstance(chosen, Opaque):
                return Opaque(f"{chosen.path} ? ...")
            return self.eval(operands["true_value" if chosen else "false_value"])
        return Opaque(kind)

    def _function(self, kind: str, args: dict[str, Any]) -> Any:
        if kind == "load_json_content":
            return json.loads((self.path.parent / args["file_path"]).read_text(encoding="utf-8"))
        if kind == "concat":
            parts = [self.eval(v) for v in args.values()]
            return [x for p in parts for x in p] if all(isinstance(p, list) for p in parts) else Opaque(kind)
        if kind == "filter":
            return self._filter(self.eval(args["input_array"]), args["expression"]["detail"])
        if kind in ("tenant", "environment", "subscription", "resource_group", "deployer"):
            return Opaque(f"{kind}()")
        return Opaque(kind)

    def _filter(self, items: list[Any], lam: dict[str, Any]) -> list[Any]:
        kept = []
        for item in items:
            inner = Scope(self.path, self.given, {**self._locals, lam["var_1"]: item})
            if inner.eval(lam["expression"]) is True:
                kept.append(item)
        return kept


def module_params(scope: Scope, module: str) -> dict[str, Any]:
    """The parameters `scope`'s file passes to one of its modules, evaluated there."""
    declaration = scope.doc["modules"][module]
    return {name: scope.eval(value) for name, value in body(declaration)["params"].items()}


def module_path(scope: Scope, module: str) -> Path:
    return (scope.path.parent / scope.doc["modules"][module]["detail"]["path"]).resolve()

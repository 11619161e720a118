"""OData v4 `$filter` over Graph JSON objects: a tokenizer, a recursive-descent parser, closures.

Why a real parser: Graph answers malformed filters with a 400, not with a wrong result, and clients
build filters by string concatenation (quotes doubled, `tags/any(t:t eq 'x')`, datetimes unquoted).
String comparison is case-insensitive, as the directory compares; `customSecurityAttributes` values
are the documented exception (case-sensitive). The compiled filter also reports which operators and
properties it used, so a backend can apply Graph's "advanced query" rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphsim.errors import GraphError
from graphsim.odata_eval import (
    Expr,
    and_,
    compare,
    constant,
    in_,
    lambda_,
    or_,
    parse_datetime,
    path,
    string_function,
    truthy,
)

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
    |(?P<dt>\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d))
    |(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
    |(?P<num>-?\d+(?:\.\d+)?(?![\w-]))
    |(?P<name>[A-Za-z_@$][\w.@$#]*)
    |(?P<punct>[(),:/])
    )""",
    re.VERBOSE,
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"startswith", "endswith", "contains"}
_KEYWORDS = {"and", "or", "not", "in", "any", "all", "null", "true", "false", *_COMPARE}


def invalid(text: str, detail: str = "") -> GraphError:
    """Graph's answer to a $filter it cannot parse."""
    suffix = f": {detail}" if detail else ""
    return GraphError(400, "BadRequest", f"Invalid filter clause{suffix}", inner={"filter": text})


@dataclass(frozen=True)
class Token:
    kind: str  # str, dt, guid, num, name, punct
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split a $filter into tokens, or raise Graph's 400."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise invalid(text, f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        tokens.append(Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


@dataclass
class CompiledFilter:
    """A compiled $filter: call it with an object; `operators`/`properties` describe the query."""

    text: str
    expr: Expr
    operators: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)

    def __call__(self, obj: dict[str, Any]) -> bool:
        return truthy(self.expr(obj, {}))


def compile_filter(text: str) -> CompiledFilter:
    """Compile an OData $filter expression into a predicate over Graph JSON objects."""
    if not text or not text.strip():
        raise invalid(text, "The query specified in the URI is not valid.")
    parser = _Parser(text, tokenize(text))
    expr = parser.parse()
    return CompiledFilter(text, expr, parser.operators, parser.properties)


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.lambda_vars: list[str] = []
        self.operators: set[str] = set()
        self.properties: set[str] = set()

    # -- token helpers -----------------------------------------------------------------------
    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        tok = self.peek(offset)
        return tok.value.lower() if tok and tok.kind == "name" else ""

    def punct(self, value: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return bool(tok and tok.kind == "punct" and tok.value == value)

    def expect(self, value: str) -> None:
        if not self.punct(value):
            tok = self.peek()
            where = tok.pos if tok else len(self.text)
            raise invalid(self.text, f"Syntax error: character '{value}' expected at position {where}.")
        self.i += 1

    def error(self) -> GraphError:
        tok = self.peek()
        where = tok.pos if tok else len(self.text)
        return invalid(self.text, f"Syntax error at position {where} in '{self.text}'.")

    # -- grammar -----------------------------------------------------------------------------
    def parse(self) -> Expr:
        expr = self.parseor()
        if self.peek() is not None:
            raise self.error()
        return expr

    def parseor(self) -> Expr:
        left = self.parseand()
        while self.word() == "or":
            self.i += 1
            right = self.parseand()
            left = or_(left, right)
        return left

    def parseand(self) -> Expr:
        left = self.parse_unary()
        while self.word() == "and":
            self.i += 1
            right = self.parse_unary()
            left = and_(left, right)
        return left

    def parse_unary(self) -> Expr:
        if self.word() == "not":
            self.i += 1
            self.operators.add("not")
            inner = self.parse_unary()
            return lambda o, env: not truthy(inner(o, env))
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left, case_sensitive = self.parse_primary()
        op = self.word()
        if op in _COMPARE:
            self.i += 1
            self.operators.add(op)
            right, _ = self.parse_primary()
            return compare(op, left, right, case_sensitive)
        if op == "in":
            self.i += 1
            self.operators.add("in")
            return in_(left, self.parse_list())
        return left

    def parse_list(self) -> list[Expr]:
        self.expect("(")
        items = [self.parse_primary()[0]]
        while self.punct(","):
            self.i += 1
            items.append(self.parse_primary()[0])
        self.expect(")")
        return items

    def parse_primary(self) -> tuple[Expr, bool]:
        tok = self.peek()
        if tok is None:
            raise self.error()
        if tok.kind == "punct" and tok.value == "(":
            self.i += 1
            inner = self.parseor()
            self.expect(")")
            return inner, False
        if tok.kind != "name":
            self.i += 1
            return _literal(tok, self.text), False
        low = tok.value.lower()
        if low in ("null", "true", "false"):
            self.i += 1
            value = {"null": None, "true": True, "false": False}[low]
            return constant(value), False
        if low in _FUNCTIONS and self.punct("(", 1):
            return self.parse_function(low), False
        if low in _KEYWORDS:
            raise self.error()
        return self.parse_path()

    def parse_function(self, name: str) -> Expr:
        self.i += 1
        self.operators.add(name)
        self.expect("(")
        subject, _ = self.parse_primary()
        self.expect(",")
        arg, _ = self.parse_primary()
        self.expect(")")
        return string_function(name, subject, arg)

    def parse_path(self) -> tuple[Expr, bool]:
        segments = [self.take_name()]
        while self.punct("/"):
            self.i += 1
            if self.word() in ("any", "all") and self.punct("(", 1):
                return self.parselambda(segments), False
            segments.append(self.take_name())
        root_is_var = segments[0] in self.lambda_vars
        if not root_is_var:
            self.properties.add("/".join(segments))
        case_sensitive = segments[0].lower() == "customsecurityattributes"
        return path(segments, root_is_var), case_sensitive

    def take_name(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "name":
            raise self.error()
        self.i += 1
        return tok.value

    def parselambda(self, segments: list[str]) -> Expr:
        kind = self.word()
        self.i += 2  # the any/all word and "("
        self.operators.add(kind)
        self.properties.add("/".join(segments))
        var = self.take_name()
        self.expect(":")
        self.lambda_vars.append(var)
        body = self.parseor()
        self.lambda_vars.pop()
        self.expect(")")
        collection = path(segments, segments[0] in self.lambda_vars)
        return lambda_(kind, var, collection, body)


def _literal(tok: Token, text: str) -> Expr:
    value: Any
    if tok.kind == "str":
        value = tok.value[1:-1].replace("''", "'")
    elif tok.kind == "dt":
        value = parse_datetime(tok.value)
    elif tok.kind == "guid":
        value = tok.value
    elif tok.kind == "num":
        value = float(tok.value) if "." in tok.value else int(tok.value)
    else:
        raise invalid(text, f"Syntax error at position {tok.pos} in '{text}'.")
    return constant(value)

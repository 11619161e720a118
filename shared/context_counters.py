"""Counters a context opens and its tasks inherit (a stack in a ContextVar), shared by the Graph and
the Table Storage request counts: each `with` counts into fresh stats and into every enclosing one's,
and concurrent contexts count apart. No SDK import, so anything may use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def counting_into(stack: ContextVar[tuple[T, ...]], stats: T) -> Iterator[T]:
    """Push `stats` onto the context's counters for the duration of the `with`; yields it."""
    token = stack.set((*stack.get(), stats))
    try:
        yield stats
    finally:
        stack.reset(token)

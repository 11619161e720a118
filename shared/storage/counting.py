"""Counting Table Storage operations, by kind (the storage twin of shared/graph/counting.py).

Every attempt `EntityTable` sends counts once (a retried call counts each attempt, as the service
bills it): `TOTALS` counts everything this process ever sent, and `with counting() as stats:` counts
what one context (and the tasks it starts) sent, so a benchmark scenario can count its own.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from enum import StrEnum

from shared.context_counters import counting_into


class OpKind(StrEnum):
    """What one storage request is, as counted."""

    READ = "reads"  # point read of one entity
    WRITE = "writes"  # insert, replace or delete of one entity
    TRANSACTION = "transactions"  # one entity-group transaction (up to 100 entities of one partition)
    QUERY = "queries"  # a filtered query or listing (its first page; later pages are not counted apart)
    TABLE = "tables"  # create or delete a table


# `EntityTable` operation name -> kind; names not listed here count as writes (the safe side).
KINDS = {
    "get": OpKind.READ, "create": OpKind.WRITE, "update": OpKind.WRITE, "delete": OpKind.WRITE,
    "upsert": OpKind.WRITE, "merge": OpKind.WRITE,
    "transaction": OpKind.TRANSACTION, "delete batch": OpKind.TRANSACTION,
    "query": OpKind.QUERY, "list": OpKind.QUERY,
    "create table": OpKind.TABLE, "delete table": OpKind.TABLE,
}


@dataclass
class TableStats:
    """Storage requests sent, by kind; `transaction_rows` counts the entities inside transactions."""

    reads: int = 0
    writes: int = 0
    transactions: int = 0
    queries: int = 0
    tables: int = 0
    transaction_rows: int = 0

    @property
    def requests(self) -> int:
        """Every request sent (a transaction is one request)."""
        return self.reads + self.writes + self.transactions + self.queries + self.tables

    def add(self, kind: OpKind, rows: int = 0) -> None:
        setattr(self, kind.value, getattr(self, kind.value) + 1)
        self.transaction_rows += rows

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "requests": self.requests}


TOTALS = TableStats()
COUNTING: ContextVar[tuple[TableStats, ...]] = ContextVar("pimwarden_table_counting", default=())


def count(operation: str, rows: int = 0) -> None:
    """Count one request of `operation` (an `EntityTable` operation name) everywhere it counts."""
    kind = KINDS.get(operation, OpKind.WRITE)
    TOTALS.add(kind, rows)
    for stats in COUNTING.get():
        stats.add(kind, rows)


def counting() -> AbstractContextManager[TableStats]:
    """Count the storage requests sent in this context (and tasks started in it) into fresh stats.

    Concurrent contexts count apart; a nested one counts into its own stats and its parents'."""
    return counting_into(COUNTING, TableStats())

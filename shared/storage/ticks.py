"""Enforcement ticks that fan out through the queue: what each tick enqueued and how far the workers got.

A tick is many invocations on many instances, so its progress cannot live in one process. One row
per tick (partition `tick`, row keys newest first) says what was enqueued; each worker process keeps
its own counter row per tick (partition `p-{tick}`, row key = its holder id) that only it writes, so
workers never contend for one entity. A tick's view is the tick row plus the sum of its counter rows.

Queued markers (partition `queued`, one row per app) say an app was enqueued and until when that
counts: a tick does not enqueue an app again while its marker is live (the app's lease time).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from shared.storage import codec
from shared.storage.errors import ConcurrencyError
from shared.storage.tables import EntityTable, StoredEntity

TICK_PARTITION = "tick"
QUEUED_PARTITION = "queued"
_NEWEST_FIRST = 9_999_999_999_999  # inverted epoch milliseconds: row keys sort newest first


def new_tick_id(started: datetime) -> str:
    """A tick id that sorts newest first, unique across instances starting in the same millisecond."""
    return f"{_NEWEST_FIRST - int(started.timestamp() * 1000):013d}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class TickCounts:
    """What workers did for one tick (summed over instances)."""

    done: int = 0  # apps reconciled (changed, unchanged, not managed, refused)
    changed: int = 0
    failed: int = 0  # permanent failures, recorded on the app and not retried
    retried: int = 0  # attempts that ended transient (the queue retries them)
    poisoned: int = 0  # messages that exhausted their attempts
    throttled: int = 0  # 429 answers seen
    writes: int = 0
    requests: int = 0
    last_at: datetime | None = None

    def __add__(self, other: TickCounts) -> TickCounts:
        numbers = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                   if f.name != "last_at"}
        times = [t for t in (self.last_at, other.last_at) if t is not None]
        return TickCounts(**numbers, last_at=max(times) if times else None)

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.poisoned


@dataclass(frozen=True)
class Tick:
    """One fanned-out tick: when it started, why, how many apps it enqueued, and the workers' counts."""

    tick_id: str
    cause: str
    started: datetime
    full: bool
    enqueued: int
    counts: TickCounts = TickCounts()

    @property
    def remaining(self) -> int:
        return max(self.enqueued - self.counts.finished, 0)

    def eta_seconds(self) -> float | None:
        """Seconds until every enqueued app is finished at the rate so far; None before the first one."""
        done, last = self.counts.finished, self.counts.last_at
        if self.remaining == 0:
            return 0.0
        if done == 0 or last is None or last <= self.started:
            return None
        return self.remaining * (last - self.started).total_seconds() / done


class TickRepo:
    """Tick rows, per-worker counter rows and queued markers in one table."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def start(self, tick: Tick) -> None:
        """Record a tick (before its messages are sent, so workers' counts always have a tick)."""
        await self._table.transact(TICK_PARTITION, [("upsert", tick.tick_id, _tick_props(tick))])

    async def latest(self) -> Tick | None:
        """The newest tick with its counts summed over workers, or None when none was recorded."""
        rows = await self._table.query(
            "PartitionKey eq @pk and RowKey ge @lo", {"pk": TICK_PARTITION, "lo": ""}, limit=1
        )
        if not rows:
            return None
        tick = _tick_from(rows[0])
        counters = await self._table.partition(_progress_partition(tick.tick_id))
        total = TickCounts()
        for row in counters:
            total = total + _counts_from(row.properties)
        return replace(tick, counts=total)

    async def add(self, tick_id: str, holder: str, counts: TickCounts, known: StoredEntity | None
                  ) -> StoredEntity:
        """Add `counts` to this worker's row for the tick; `known` is the row as last written (saves a
        read). Only one worker writes a row, so a conflict means `known` was stale: re-read and retry."""
        pk = _progress_partition(tick_id)
        current = known
        for _ in range(5):
            if current is None:
                current = await self._table.find(pk, holder)
            total = (_counts_from(current.properties) if current else TickCounts()) + counts
            props = _counts_props(total)
            try:
                if current is None:
                    etag = await self._table.create(pk, holder, props)
                else:
                    etag = await self._table.update(pk, holder, props, current.etag)
            except ConcurrencyError:
                current = None
                continue
            return StoredEntity(pk, holder, props, etag)
        raise ConcurrencyError(f"tick {tick_id} counters for {holder}: kept changing under us")

    async def queued(self, now: datetime) -> set[str]:
        """Apps whose queued marker is still live at `now`."""
        rows = await self._table.query(
            "PartitionKey eq @pk and Until ge @now", {"pk": QUEUED_PARTITION, "now": now}
        )
        return {row.row_key for row in rows}

    async def mark_queued(self, app_ids: Iterable[str], until: datetime, tick_id: str) -> None:
        """Mark apps as queued until `until` (entity-group transactions of up to 100 rows)."""
        props = {"Until": codec.aware(until, "until"), "Tick": tick_id}
        await self._table.transact(QUEUED_PARTITION, [("upsert", app, props) for app in sorted(app_ids)])


    async def unmark_queued(self, app_id: str) -> None:
        """The app's message is done: a later tick may queue it again at once. (Unconditional, one
        request: should a newer tick's marker go too, its app may be queued once more, which costs
        reads and nothing else.)"""
        await self._table.delete(QUEUED_PARTITION, app_id)


class TickProgress:
    """One process's counters: adds from concurrent invocations coalesce into one write at a time."""

    def __init__(self, repo: TickRepo, holder: str) -> None:
        self._repo, self._holder = repo, holder
        self._lock = asyncio.Lock()
        self._pending: dict[str, TickCounts] = {}
        self._rows: dict[str, StoredEntity] = {}

    async def add(self, tick_id: str, counts: TickCounts) -> None:
        """Count `counts` for the tick; returns once they are stored (by this call or a concurrent one)."""
        self._pending[tick_id] = self._pending.get(tick_id, TickCounts()) + counts
        async with self._lock:
            batch, self._pending = self._pending, {}
            while batch:
                tick, total = next(iter(batch.items()))
                try:
                    self._rows[tick] = await self._repo.add(tick, self._holder, total, self._rows.get(tick))
                except BaseException:
                    for rest, counts in batch.items():  # this tick's and every later one's: kept
                        self._pending[rest] = self._pending.get(rest, TickCounts()) + counts
                    raise
                del batch[tick]


def _progress_partition(tick_id: str) -> str:
    return f"p-{tick_id}"


def _tick_props(tick: Tick) -> dict[str, Any]:
    return {
        "Cause": tick.cause[:200],
        "Started": codec.aware(tick.started, "started"),
        "Full": tick.full,
        "Enqueued": tick.enqueued,
    }


def _tick_from(row: StoredEntity) -> Tick:
    p = row.properties
    return Tick(row.row_key, str(p.get("Cause", "")), codec.require_utc(p.get("Started")),
                bool(p.get("Full", False)), int(p.get("Enqueued", 0)))


_COUNTERS = ("done", "changed", "failed", "retried", "poisoned", "throttled", "writes", "requests")


def _counts_props(counts: TickCounts) -> dict[str, Any]:
    props: dict[str, Any] = {name.capitalize(): getattr(counts, name) for name in _COUNTERS}
    if counts.last_at is not None:
        props["LastAt"] = codec.aware(counts.last_at, "last_at")
    return props


def _counts_from(p: Mapping[str, Any]) -> TickCounts:
    numbers = {name: int(p.get(name.capitalize(), 0) or 0) for name in _COUNTERS}
    return TickCounts(**numbers, last_at=codec.utc(p.get("LastAt")))

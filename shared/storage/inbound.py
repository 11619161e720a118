"""Inbound request records: the idempotency memory of webhooks and operator calls.

A delivery is keyed by (source, delivery id): PartitionKey = source (e.g. "jira"), RowKey = the
sender's delivery id. `record` inserts if absent; a redelivery gets the stored record back, so the
caller can replay the stored answer instead of acting twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.storage import codec
from shared.storage.errors import AlreadyExistsError
from shared.storage.tables import EntityTable, StoredEntity


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REFUSED = "refused"
    IGNORED = "ignored"


@dataclass(frozen=True)
class InboundRequest:
    """One delivery and what we answered; `answer_body` and `decision` are JSON text."""

    source: str
    delivery_id: str
    body_hash: str
    created: datetime
    updated: datetime
    status: RequestStatus = RequestStatus.PENDING
    answer_status: int | None = None
    answer_body: str | None = None
    app_id: str | None = None
    decision: str | None = None
    etag: str | None = None


class InboundRequestRepo:
    """Insert-if-absent and ETag-conditional updates of inbound request records."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def record(self, request: InboundRequest) -> tuple[InboundRequest, bool]:
        """Insert if absent: (stored record, True) when new, (existing record, False) on a redelivery."""
        try:
            etag = await self._table.create(request.source, request.delivery_id, _properties(request))
        except AlreadyExistsError:
            return await self.get(request.source, request.delivery_id), False
        return replace(request, etag=etag), True

    async def get(self, source: str, delivery_id: str) -> InboundRequest:
        """The record; NotFoundError when never seen."""
        return _from_stored(await self._table.get(source, delivery_id))

    async def find(self, source: str, delivery_id: str) -> InboundRequest | None:
        """The record, or None when never seen."""
        stored = await self._table.find(source, delivery_id)
        return _from_stored(stored) if stored else None

    async def update(self, request: InboundRequest) -> InboundRequest:
        """Replace the record if unchanged since read; ConcurrencyError otherwise."""
        if request.etag is None:
            raise ValueError("update needs the etag of the record read before")
        props = _properties(request)
        etag = await self._table.update(request.source, request.delivery_id, props, request.etag)
        return replace(request, etag=etag)


def _properties(r: InboundRequest) -> dict[str, Any]:
    return codec.drop_none({
        "BodyHash": r.body_hash,
        "Status": r.status.value,
        "AnswerStatus": r.answer_status,
        "AnswerBody": r.answer_body,
        "AppId": r.app_id,
        "Decision": r.decision,
        "Created": codec.aware(r.created, "created"),
        "Updated": codec.aware(r.updated, "updated"),
    })


def _from_stored(s: StoredEntity) -> InboundRequest:
    p = s.properties
    answer = p.get("AnswerStatus")
    return InboundRequest(
        source=s.partition_key,
        delivery_id=s.row_key,
        body_hash=str(p.get("BodyHash", "")),
        created=codec.require_utc(p.get("Created")),
        updated=codec.require_utc(p.get("Updated")),
        status=RequestStatus(p.get("Status", RequestStatus.PENDING.value)),
        answer_status=None if answer is None else int(answer),
        answer_body=codec.optional_str(p.get("AnswerBody")),
        app_id=codec.optional_str(p.get("AppId")),
        decision=codec.optional_str(p.get("Decision")),
        etag=s.etag,
    )

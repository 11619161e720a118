"""Entity-group transactions through shared/storage/batch.py: the body is byte for byte what the SDK
(azure-core's multipart code) would send, and the service's answer is read right, against Azurite."""

from __future__ import annotations

import re

import pytest
from azure.core.pipeline._base_async import AsyncPipeline
from azure.core.rest import HttpRequest
from azure.data.tables import UpdateMode
from azure.data.tables._policies import StorageHeadersPolicy

from shared.storage import StateStore, StorageError
from shared.storage.batch import body, operations

pytestmark = pytest.mark.azurite
DATE = re.compile(rb"(x-ms-date|Date): [^\r]+")

OPS = [
    ("upsert", {"PartitionKey": "p'1", "RowKey": "r 1", "n": 1, "s": "Zoë 東京", "b": b"\x00\xff"},
     {"mode": UpdateMode.REPLACE}),
    ("update", {"PartitionKey": "p'1", "RowKey": "r/2", "m": 2.5, "t": True}, {"mode": UpdateMode.MERGE}),
]


async def test_the_body_is_the_sdks(state_store: StateStore) -> None:
    client = state_store._tables["audit"]._client
    sdk = HttpRequest("POST", "http://127.0.0.1/$batch", headers={"Content-Type": "application/json"})
    changeset = HttpRequest("POST", "")
    policies = [StorageHeadersPolicy()]
    changeset.set_multipart_mixed(*operations(client, OPS), policies=policies, boundary="changeset_C")
    sdk.set_multipart_mixed(changeset, policies=policies, enforce_https=False, boundary="batch_B")
    await AsyncPipeline(transport=None, policies=[])._prepare_multipart_mixed_request(sdk)  # type: ignore[arg-type]
    sdk.prepare_multipart_body()
    ours = body(operations(client, OPS), "batch_B", "changeset_C", "Fri, 04 Dec 2026 18:59:13 GMT")
    assert DATE.sub(b"\\1: D", ours) == DATE.sub(b"\\1: D", sdk.content)
    assert sdk.headers["Content-Type"] == "multipart/mixed; boundary=batch_B"


async def test_a_refused_operation_fails_the_whole_transaction(state_store: StateStore) -> None:
    table = state_store._tables["audit"]
    await table.transact("p", [("upsert", "a", {"n": 1}), ("upsert", "b", {"n": 2})])
    assert [(e.row_key, e.properties["n"]) for e in await table.partition("p")] == [("a", 1), ("b", 2)]
    with pytest.raises(StorageError) as refused:
        await table.transact("p", [("upsert", "a", {"n": 10}), ("merge", "missing", {"n": 3})])
    assert "HTTP 404" in str(refused.value)
    assert [(e.row_key, e.properties["n"]) for e in await table.partition("p")] == [("a", 1), ("b", 2)]

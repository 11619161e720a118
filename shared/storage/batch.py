"""Entity-group transactions sent with a lean multipart body (the same bytes the SDK sends).

azure-data-tables builds a transaction's `multipart/mixed` body and parses its answer with the stdlib
`email` package: a profile of cold onboarding put about a third of the engine's CPU there (each part
is a MIME message, flattened and re-parsed). Here the SDK still builds every operation (URL, headers,
typed JSON entity: `TableBatchOperations`, as `submit_transaction` does) and the request still goes
through the client's own pipeline (auth, signing, transport); only the body is joined directly, in
the layout azure-core writes for it (tests/integration/test_storage_batch.py compares the bytes), and
the answer is read for its status lines (Table service: "Performing entity group transactions").

Pinned to azure-data-tables 12.7.0 internals (`TableBatchOperations`, the client's `_client`); the
byte comparison test fails first when an upgrade changes them.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from email.utils import formatdate
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.data.tables._table_batch import TableBatchOperations
from azure.data.tables.aio import TableClient

_STATUS = re.compile(rb"^HTTP/1\.1 (\d{3})", re.MULTILINE)
_CODE = re.compile(rb'"code"\s*:\s*"([^"]*)"')


def operations(client: TableClient, ops: Sequence[Any]) -> list[HttpRequest]:
    """The SDK's own sub-requests for `ops` (tuples as `TableClient.submit_transaction` takes them)."""
    batch = TableBatchOperations(
        config=client._client._config,
        endpoint=f"{client.scheme}://{client._primary_hostname}",
        table_name=client.table_name,
        is_cosmos_endpoint=client._cosmos_endpoint,
    )
    for op in ops:
        batch.add_operation(op)
    return batch.requests


def body(requests: Sequence[HttpRequest], batch: str, changeset: str, date: str) -> bytes:
    """The multipart body azure-core writes for these sub-requests (StorageHeadersPolicy's dates added)."""
    parts = [f"--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n".encode()]
    for index, request in enumerate(requests):
        headers = {**request.headers, "x-ms-date": date, "Date": date}
        head = (
            f"--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: {index}\r\n\r\n{request.method} {request.url} HTTP/1.1\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        )
        content = request.content
        data = content.encode("latin-1") if isinstance(content, str) else bytes(content or b"")
        parts.append(head.encode("latin-1") + data + b"\r\n")
    parts.append(f"--{changeset}--\r\n\r\n--{batch}--\r\n".encode())
    return b"".join(parts)


async def submit(client: TableClient, ops: Sequence[Any]) -> None:
    """Send `ops` as one entity-group transaction; HttpResponseError (with the failing operation's
    status) when the service refused it, as the SDK raises."""
    batch, changeset = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    content = body(operations(client, ops), batch, changeset, formatdate(time.time(), usegmt=True))
    request = HttpRequest("POST", f"{client.scheme}://{client._primary_hostname}/$batch", headers={
        "x-ms-version": client.api_version, "DataServiceVersion": "3.0",
        "MaxDataServiceVersion": "3.0;NetFx", "Accept": "application/json",
        "Content-Type": f"multipart/mixed; boundary={batch}",
    }, content=content)
    response = await client._client.send_request(request, stream=True)  # stream: not JSON-decoded
    answer = await response.read()
    if response.status_code != 202:
        raise HttpResponseError(response=response)
    failed = [int(s) for s in _STATUS.findall(answer) if not 200 <= int(s) < 300]
    if failed or not _STATUS.search(answer):
        code = _CODE.search(answer)
        error = HttpResponseError(
            message=f"transaction refused: HTTP {failed[0] if failed else 'none'}", response=None)
        error.status_code = failed[0] if failed else 500
        error.error_code = code.group(1).decode() if code else None  # type: ignore[attr-defined]
        raise error

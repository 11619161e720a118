"""Delivery keys for the idempotency store: one key per delivery, safe as a Table Storage RowKey.

The key must come from *signed* data, or a replay with a fresh, unsigned id would pass as a new
delivery. Standard Webhooks signs `webhook-id`, so that id is the key. Jira signs only the body:
its `X-Atlassian-Webhook-Identifier` (unchanged across Jira's retries) is kept for the audit trail by
`delivery_reference`, but the key is the body's SHA-256 (a genuine retry resends the same body; a
replayed body maps to the same key and is answered from the store).

RowKeys may not contain / \\ # ? or control characters and are at most 1 KiB; ids that are not plain
`[A-Za-z0-9_:-]` are hashed rather than escaped, so two ids never collide on one key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from shared.tickets.signatures import SchemeName, lower_headers

_SAFE_ID = re.compile(r"[A-Za-z0-9_:\-]{1,128}")
ATLASSIAN_ID_HEADER = "x-atlassian-webhook-identifier"


def body_fingerprint(raw_body: bytes) -> str:
    """`sha256:<hex>` of the raw body: tells a true repeat from a reused id with a different body."""
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def delivery_key(scheme: SchemeName, headers: Mapping[str, str], raw_body: bytes) -> str:
    """The idempotency key of a verified delivery (call after the signature passed)."""
    if scheme is SchemeName.STANDARD_WEBHOOKS:
        msg_id = lower_headers(headers).get("webhook-id", "").strip()
        if msg_id:
            return "id:" + msg_id if _SAFE_ID.fullmatch(msg_id) else "idh:" + _sha256(msg_id.encode())
    return "body:" + hashlib.sha256(raw_body).hexdigest()


def delivery_reference(headers: Mapping[str, str]) -> str | None:
    """Jira's delivery identifier, for the audit trail only (it is not signed); None when absent/odd."""
    value = lower_headers(headers).get(ATLASSIAN_ID_HEADER, "").strip()
    return value if _SAFE_ID.fullmatch(value) else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

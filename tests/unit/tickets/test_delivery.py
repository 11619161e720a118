"""Delivery keys: from signed data only, stable, distinct, and safe as Table Storage RowKeys."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shared.tickets.delivery import body_fingerprint, delivery_key, delivery_reference
from shared.tickets.signatures import SchemeName

SW, JIRA = SchemeName.STANDARD_WEBHOOKS, SchemeName.JIRA
# RowKey: no / \ # ?, no control characters, at most 1 KiB.
ROW_KEY_SAFE = re.compile(r"[^/\\#?\x00-\x1f\x7f-\x9f]{1,1024}")


def test_standard_webhooks_key_is_the_signed_webhook_id() -> None:
    assert delivery_key(SW, {"Webhook-Id": "msg_2KWPBgLl"}, b"{}") == "id:msg_2KWPBgLl"
    assert delivery_key(SW, {"webhook-id": "msg_1"}, b"a") == delivery_key(SW, {"webhook-id": "msg_1"}, b"b")


def test_unsafe_ids_are_hashed_not_escaped() -> None:
    key = delivery_key(SW, {"webhook-id": "a/b#c?"}, b"{}")
    assert key.startswith("idh:") and ROW_KEY_SAFE.fullmatch(key)
    assert key != delivery_key(SW, {"webhook-id": "a_b_c_"}, b"{}")


def test_jira_key_is_the_body_hash_whatever_the_unsigned_identifier() -> None:
    body = b'{"timestamp": 1}'
    first = delivery_key(JIRA, {"X-Atlassian-Webhook-Identifier": "1-2-3"}, body)
    replay = delivery_key(JIRA, {"X-Atlassian-Webhook-Identifier": "9-9-9"}, body)
    assert first == replay == "body:" + body_fingerprint(body).removeprefix("sha256:")
    assert delivery_key(JIRA, {}, body + b" ") != first


def test_missing_webhook_id_falls_back_to_the_body_hash() -> None:
    assert delivery_key(SW, {}, b"x").startswith("body:")


def test_delivery_reference_is_the_atlassian_identifier_when_well_formed() -> None:
    assert delivery_reference({"X-Atlassian-Webhook-Identifier": "2e4b2c8a-1"}) == "2e4b2c8a-1"
    assert delivery_reference({"x-atlassian-webhook-identifier": "a#b"}) is None
    assert delivery_reference({}) is None


def test_body_fingerprint_distinguishes_bodies() -> None:
    assert body_fingerprint(b"a") != body_fingerprint(b"a ")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", body_fingerprint(b""))


@given(st.text(max_size=300), st.binary(max_size=300), st.sampled_from([SW, JIRA]))
def test_every_key_is_row_key_safe(msg_id: str, body: bytes, scheme: SchemeName) -> None:
    assert ROW_KEY_SAFE.fullmatch(delivery_key(scheme, {"webhook-id": msg_id}, body))

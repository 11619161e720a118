"""Standard Webhooks and Jira signature verification, on a fixed clock, over raw bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.tickets.errors import SignatureError, SignatureErrorCode
from shared.tickets.signatures import JiraHubSignature, SchemeName, StandardWebhooks
from shared.tickets.signing_secrets import Secret, SecretFormat, parse_secrets

# Official vector from standard-webhooks/standard-webhooks, libraries/go/webhook_test.go (TestWebhookSign).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"action":"revoke"}'


def sw(secrets: str, now: datetime = NOW) -> StandardWebhooks:
    return StandardWebhooks(parse_secrets(secrets), FixedClock(now))


def headers(signature: str, *, ts: int | None = None, msg_id: str = "msg_1") -> dict[str, str]:
    stamp = int(NOW.timestamp()) if ts is None else ts
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def signed(
    secret: str, body: bytes = BODY, *, ts: int | None = None, msg_id: str = "msg_1"
) -> dict[str, str]:
    stamp = int(NOW.timestamp()) if ts is None else ts
    return headers(sw(secret).sign(msg_id, stamp, body), ts=stamp, msg_id=msg_id)


def code_of(scheme: StandardWebhooks | JiraHubSignature, hdrs: dict[str, str], body: bytes) -> str:
    with pytest.raises(SignatureError) as caught:
        scheme.verify(hdrs, body)
    return caught.value.code.value


def test_official_vector_signs_and_verifies() -> None:
    scheme = sw(VECTOR_SECRET, datetime.fromtimestamp(VECTOR_TS, UTC))
    assert scheme.sign(VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE
    verified = scheme.verify(headers(VECTOR_SIGNATURE, ts=VECTOR_TS, msg_id=VECTOR_ID), VECTOR_BODY)
    assert verified.delivery_id == VECTOR_ID
    assert verified.timestamp == datetime.fromtimestamp(VECTOR_TS, UTC)
    assert verified.scheme is SchemeName.STANDARD_WEBHOOKS


def test_official_vector_invalid_signature_is_refused() -> None:
    scheme = sw(VECTOR_SECRET, datetime.fromtimestamp(VECTOR_TS, UTC))
    bad = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="  # the vector's "invalid signature" case
    assert code_of(scheme, headers(bad, ts=VECTOR_TS, msg_id=VECTOR_ID), VECTOR_BODY) == "no_valid_signature"


def test_valid_signature_passes_with_header_names_in_any_case() -> None:
    hdrs = {k.upper(): v for k, v in signed(NEW).items()}
    assert sw(NEW).verify(hdrs, BODY).delivery_id == "msg_1"


def test_wrong_secret_is_refused() -> None:
    assert code_of(sw(NEW), signed(OLD), BODY) == "no_valid_signature"


@pytest.mark.parametrize("sender", [OLD, NEW])
def test_rotation_accepts_old_and_new_secret(sender: str) -> None:
    assert sw(f"{OLD}, {NEW}").verify(signed(sender), BODY).delivery_id == "msg_1"


def test_signature_list_with_one_bad_and_one_good_passes() -> None:
    good = signed(NEW)["webhook-signature"]
    hdrs = headers(f"v1,{base64.b64encode(b'x' * 32).decode()} v1a,Zm9v v2,{good[3:]} {good}")
    assert sw(NEW).verify(hdrs, BODY).delivery_id == "msg_1"


def test_sender_signing_with_both_secrets_is_accepted_by_a_receiver_holding_either() -> None:
    both = sw(f"{OLD},{NEW}").sign("msg_1", int(NOW.timestamp()), BODY)
    assert len(both.split()) == 2
    assert sw(OLD).verify(headers(both), BODY).delivery_id == "msg_1"
    assert sw(NEW).verify(headers(both), BODY).delivery_id == "msg_1"


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(minutes=-5, seconds=-1), "stale"),
        (timedelta(minutes=5, seconds=1), "future"),
        (timedelta(days=-365), "stale"),
    ],
)
def test_timestamps_outside_five_minutes_are_refused(offset: timedelta, expected: str) -> None:
    ts = int((NOW + offset).timestamp())
    assert code_of(sw(NEW), signed(NEW, ts=ts), BODY) == expected


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(minutes=5), timedelta(0)])
def test_timestamps_at_the_tolerance_bounds_pass(offset: timedelta) -> None:
    ts = int((NOW + offset).timestamp())
    assert sw(NEW).verify(signed(NEW, ts=ts), BODY).timestamp == NOW + offset


def test_stale_forgery_is_reported_as_bad_signature_not_as_stale() -> None:
    ts = int((NOW - timedelta(hours=1)).timestamp())
    assert code_of(sw(NEW), signed(OLD, ts=ts), BODY) == "no_valid_signature"


@pytest.mark.parametrize("tampered", [BODY + b" ", BODY.replace(b"revoke", b"grant!"), b"", BODY[:-1]])
def test_tampered_body_is_refused(tampered: bytes) -> None:
    assert code_of(sw(NEW), signed(NEW), tampered) == "no_valid_signature"


def test_reserialised_json_does_not_verify() -> None:
    """The MAC covers raw bytes: parsing and re-dumping the body changes it."""
    body = b'{"a": 1,  "b": 2}'
    assert code_of(sw(NEW), signed(NEW, body), json.dumps(json.loads(body)).encode()) == "no_valid_signature"


def test_id_and_timestamp_are_signed() -> None:
    hdrs = signed(NEW)
    assert code_of(sw(NEW), {**hdrs, "webhook-id": "msg_2"}, BODY) == "no_valid_signature"
    other_ts = str(int(NOW.timestamp()) + 1)
    assert code_of(sw(NEW), {**hdrs, "webhook-timestamp": other_ts}, BODY) == "no_valid_signature"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    hdrs = {k: v for k, v in signed(NEW).items() if k != missing}
    assert code_of(sw(NEW), hdrs, BODY) == "missing_headers"
    assert code_of(sw(NEW), {**signed(NEW), missing: "  "}, BODY) == "missing_headers"


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("webhook-timestamp", "1.5", "bad_timestamp"),
        ("webhook-timestamp", "-100", "bad_timestamp"),
        ("webhook-timestamp", "2026-03-01T12:00:00Z", "bad_timestamp"),
        ("webhook-timestamp", "9" * 40, "bad_timestamp"),
        ("webhook-id", "msg.1", "bad_id"),
        ("webhook-id", "a/b", "bad_id"),
        ("webhook-id", "x" * 129, "bad_id"),
        ("webhook-signature", "v1,", "no_valid_signature"),
        ("webhook-signature", "v1,not base64!!", "no_valid_signature"),
        ("webhook-signature", "garbage", "no_valid_signature"),
        ("webhook-signature", ",,,", "no_valid_signature"),
    ],
)
def test_malformed_header_values_are_refused(header: str, value: str, expected: str) -> None:
    assert code_of(sw(NEW), {**signed(NEW), header: value}, BODY) == expected


def jira(secrets: str = "jira-secret-0123456789", now: datetime = NOW) -> JiraHubSignature:
    return JiraHubSignature(parse_secrets(secrets, SecretFormat.RAW), FixedClock(now))


def jira_body(at: datetime = NOW) -> bytes:
    return json.dumps(
        {"webhookEvent": "jira:issue_updated", "timestamp": int(at.timestamp() * 1000)}
    ).encode()


def hub(secret: str, body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_jira_valid_signature_and_fresh_timestamp_pass() -> None:
    body = jira_body(NOW - timedelta(minutes=10))
    verified = jira().verify(hub("jira-secret-0123456789", body), body)
    assert verified.timestamp == NOW - timedelta(minutes=10)
    assert verified.delivery_id is None
    assert jira().sign(body) == hub("jira-secret-0123456789", body)["X-Hub-Signature"]


def test_jira_accepts_either_of_two_secrets_and_upper_case_hex() -> None:
    body = jira_body()
    scheme = jira("jira-secret-0123456789,jira-secret-abcdefghij")
    upper = {"x-hub-signature": hub("jira-secret-abcdefghij", body)["X-Hub-Signature"].upper()}
    assert scheme.verify(upper, body).timestamp == NOW
    assert scheme.verify(hub("jira-secret-0123456789", body), body).timestamp == NOW


@pytest.mark.parametrize(
    ("hdrs", "expected"),
    [
        ({}, "missing_headers"),
        ({"X-Hub-Signature": "sha1=abc"}, "no_valid_signature"),
        ({"X-Hub-Signature": "sha256=zz"}, "no_valid_signature"),
        ({"X-Hub-Signature": "sha256=" + "0" * 64}, "no_valid_signature"),
    ],
)
def test_jira_bad_headers_are_refused(hdrs: dict[str, str], expected: str) -> None:
    assert code_of(jira(), hdrs, jira_body()) == expected


def test_jira_wrong_secret_and_tampered_body_are_refused() -> None:
    body = jira_body()
    assert code_of(jira(), hub("some-other-secret-xyz", body), body) == "no_valid_signature"
    assert code_of(jira(), hub("jira-secret-0123456789", body), body + b" ") == "no_valid_signature"


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (NOW - timedelta(minutes=36), "stale"),
        (NOW + timedelta(minutes=6), "future"),
    ],
)
def test_jira_freshness_comes_from_the_signed_payload(at: datetime, expected: str) -> None:
    body = jira_body(at)
    assert code_of(jira(), hub("jira-secret-0123456789", body), body) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"timestamp": "yesterday"}',
        b'{"timestamp": "0001-01-01T00:00:00Z"}',
        b'{"timestamp": "9999-12-31T23:59:59Z"}',
        b'{"timestamp": "9999-12-31T23:59:59-01:00"}',
        b'{"timestamp": 253402300799999}',
        b'{"timestamp": true}',
        b"{}",
        b'{"timestamp": 1e12}',
    ],
)
def test_jira_signed_body_without_usable_timestamp_is_bad_timestamp(body: bytes) -> None:
    assert code_of(jira(), hub("jira-secret-0123456789", body), body) == "bad_timestamp"


def test_errors_and_secrets_never_show_key_material() -> None:
    secrets = parse_secrets(f"{OLD},{NEW}")
    key_texts = [OLD, NEW, OLD[6:], NEW[6:], "oooo", "nnnn"]
    scheme = StandardWebhooks(secrets, FixedClock(NOW))
    hdrs = signed(NEW)
    with pytest.raises(SignatureError) as caught:
        scheme.verify(hdrs, BODY + b"x")
    expected_mac = base64.b64encode(hmac.new(b"n" * 32, b"x", hashlib.sha256).digest()).decode()
    rendered = " ".join(
        [
            str(caught.value),
            repr(caught.value),
            repr(secrets),
            str(secrets[0]),
            repr(scheme),
            caught.value.hint,
        ]
    )
    for leaked in [*key_texts, hdrs["webhook-signature"][3:], expected_mac]:
        assert leaked not in rendered
    assert repr(secrets[1]) == "Secret(#2, <redacted>)"
    assert repr(caught.value) == "SignatureError('no_valid_signature')"


def test_secret_equality_does_not_need_repr() -> None:
    assert Secret(b"k" * 24) == Secret(b"k" * 24)
    assert SignatureErrorCode("stale") is SignatureErrorCode.STALE


HEADER_VALUES = st.one_of(
    st.text(max_size=200), st.sampled_from(["v1,", "v1,====", "sha256=", "0", "-1", "1e9"])
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "X-Hub-Signature", "other"]),
        HEADER_VALUES,
    ),
    st.binary(max_size=200),
)
def test_arbitrary_headers_and_bodies_only_ever_raise_signature_error(
    hdrs: dict[str, str], body: bytes
) -> None:
    for scheme in (sw(NEW), jira()):
        with pytest.raises(SignatureError):
            scheme.verify(hdrs, body)


@pytest.mark.parametrize(
    "stamp",
    [
        int((NOW - timedelta(minutes=10)).timestamp() * 1000),  # Jira Cloud: a number of milliseconds
        str(int((NOW - timedelta(minutes=10)).timestamp() * 1000)),  # the same digits as a string
        "2026-03-01T17:20:00.000+0530",  # Jira's own date-time format, with its offset
        "2026-03-01T11:50:00Z",
    ],
)
def test_jira_timestamp_forms_of_cloud_and_data_center_are_accepted(stamp: object) -> None:
    body = json.dumps({"webhookEvent": "jira:issue_updated", "timestamp": stamp}).encode()
    verified = jira().verify(hub("jira-secret-0123456789", body), body)
    assert verified.timestamp == NOW - timedelta(minutes=10)

"""Message signatures: prove a webhook came from the ticket system and is fresh, before parsing it.

Two schemes, chosen per source by configuration (never by a header the caller controls):

* Standard Webhooks (https://www.standardwebhooks.com, spec v1.0.0): `webhook-id`,
  `webhook-timestamp` (unix seconds) and `webhook-signature`, a space-separated list of
  `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`. The id and timestamp are signed, so
  the id is a trustworthy delivery key and the timestamp a trustworthy freshness check.
* Jira admin webhooks: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Only the body
  is signed, so freshness comes from the payload's own `timestamp` (ms since epoch): the body is
  parsed *after* the MAC matched, never before.

Both verify the MAC first and freshness second (a forged message is always `no_valid_signature`,
whatever its timestamp), accept any of several secrets (rotation), and compare with
`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shared.clock import Clock
from shared.tickets.errors import SignatureError, SignatureErrorCode
from shared.tickets.formats import parse_jira_timestamp
from shared.tickets.signing_secrets import Secret

Code = SignatureErrorCode
DEFAULT_TOLERANCE = timedelta(minutes=5)
# Jira retries a failed delivery for up to about 30 minutes (Atlassian, "New Jira Cloud webhook retry
# policy"), and the signed `timestamp` is the event's, not the attempt's: allow that much age.
DEFAULT_JIRA_MAX_AGE = timedelta(minutes=35)
MAX_SIGNATURES = 16
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_:\-]{1,128}")  # the spec forbids "." in ids
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class SchemeName(StrEnum):
    """Configured name of a signature scheme (PIMWARDEN_TICKETS_<SOURCE>_SCHEME)."""

    STANDARD_WEBHOOKS = "standard-webhooks"
    JIRA = "jira"


@dataclass(frozen=True, slots=True)
class Verified:
    """What a successful verification established: the signed delivery id (if any) and send time."""

    scheme: SchemeName
    timestamp: datetime
    delivery_id: str | None = None


class SignatureScheme(Protocol):
    """Verifies one request; raises SignatureError, returns Verified."""

    @property
    def name(self) -> SchemeName: ...

    def verify(self, headers: Mapping[str, str], body: bytes) -> Verified:
        """Check the raw body and headers; raise SignatureError with a code on any failure."""
        ...


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive: one lower-cased view."""
    return {str(k).lower(): str(v) for k, v in headers.items()}


@dataclass(frozen=True)
class StandardWebhooks:
    """Standard Webhooks v1 symmetric signatures (HMAC-SHA256, `whsec_` secrets)."""

    secrets: Sequence[Secret] = field(repr=False)
    clock: Clock
    tolerance: timedelta = DEFAULT_TOLERANCE

    @property
    def name(self) -> SchemeName:
        return SchemeName.STANDARD_WEBHOOKS

    def verify(self, headers: Mapping[str, str], body: bytes) -> Verified:
        """Verify id, timestamp and signature list over the raw body."""
        h = lower_headers(headers)
        msg_id, stamp, sig_header = (h.get(n, "").strip() for n in _SW_HEADERS)
        if not (msg_id and stamp and sig_header):
            raise SignatureError(Code.MISSING_HEADERS)
        if not _WEBHOOK_ID.fullmatch(msg_id):
            raise SignatureError(Code.BAD_ID)
        if not _UNIX_SECONDS.fullmatch(stamp):
            raise SignatureError(Code.BAD_TIMESTAMP)
        signed = f"{msg_id}.{stamp}.".encode() + body
        if not _any_match(self.secrets, signed, _v1_signatures(sig_header)):
            raise SignatureError(Code.NO_VALID_SIGNATURE)
        sent = datetime.fromtimestamp(int(stamp), UTC)
        check_freshness(sent, self.clock.now(), max_age=self.tolerance, max_ahead=self.tolerance)
        return Verified(self.name, sent, msg_id)

    def sign(self, msg_id: str, timestamp: int, body: bytes) -> str:
        """The `webhook-signature` value for a message, signed with every configured secret."""
        signed = f"{msg_id}.{timestamp}.".encode() + body
        return " ".join(f"v1,{base64.b64encode(_mac(s.key, signed)).decode()}" for s in self.secrets)


_SW_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass(frozen=True)
class JiraHubSignature:
    """Jira admin webhooks: `X-Hub-Signature: sha256=<hex>` plus the payload timestamp's age."""

    secrets: Sequence[Secret] = field(repr=False)
    clock: Clock
    max_age: timedelta = DEFAULT_JIRA_MAX_AGE
    max_ahead: timedelta = DEFAULT_TOLERANCE

    @property
    def name(self) -> SchemeName:
        return SchemeName.JIRA

    def verify(self, headers: Mapping[str, str], body: bytes) -> Verified:
        """Verify the body MAC, then (and only then) parse the body for its `timestamp`."""
        header = lower_headers(headers).get("x-hub-signature", "").strip()
        if not header:
            raise SignatureError(Code.MISSING_HEADERS)
        method, _, hex_mac = header.partition("=")
        candidates = []
        if method.strip().lower() == "sha256" and _HEX_SHA256.fullmatch(hex_mac.strip()):
            candidates.append(bytes.fromhex(hex_mac.strip()))
        if not _any_match(self.secrets, body, candidates):
            raise SignatureError(Code.NO_VALID_SIGNATURE)
        sent = _jira_timestamp(body)
        check_freshness(sent, self.clock.now(), max_age=self.max_age, max_ahead=self.max_ahead)
        return Verified(self.name, sent, None)

    def sign(self, body: bytes) -> str:
        """The `X-Hub-Signature` value Jira would send, with the first configured secret."""
        return "sha256=" + _mac(self.secrets[0].key, body).hex()


def check_freshness(sent: datetime, now: datetime, *, max_age: timedelta, max_ahead: timedelta) -> None:
    """Raise `stale` if sent before now - max_age, `future` if after now + max_ahead (bounds pass)."""
    if sent < now - max_age:
        raise SignatureError(Code.STALE)
    if sent > now + max_ahead:
        raise SignatureError(Code.FUTURE)


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _any_match(secrets: Sequence[Secret], message: bytes, candidates: Sequence[bytes]) -> bool:
    if not secrets:
        raise SignatureError(Code.BAD_SECRET_CONFIG, "no secret configured")
    expected = [_mac(s.key, message) for s in secrets]
    found = False
    for candidate in candidates:
        for mac in expected:
            found |= hmac.compare_digest(mac, candidate)  # no early exit: same work either way
    return found


def _v1_signatures(header: str) -> list[bytes]:
    """Decoded `v1` signatures from the header; other versions and malformed entries are skipped."""
    out: list[bytes] = []
    for entry in header.split()[:MAX_SIGNATURES]:
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            out.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return out


def _jira_timestamp(body: bytes) -> datetime:
    """The payload's `timestamp` (ms since epoch); an authentic body without one is `bad_timestamp`."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise SignatureError(Code.BAD_TIMESTAMP, "body is not JSON") from None
    stamp = parse_jira_timestamp(payload.get("timestamp") if isinstance(payload, dict) else None)
    if stamp is None:
        raise SignatureError(Code.BAD_TIMESTAMP, "no `timestamp` in milliseconds or as a date-time")
    return stamp

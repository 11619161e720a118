"""Webhook signing secrets as configured per source, in a type that cannot leak them.

Settings hold a comma-separated list (`PIMWARDEN_TICKETS_<SOURCE>_SECRETS`, a Key Vault reference in
Azure) so that a new secret can be added beside the old one and the old one removed later: rotation
without downtime. The key bytes live in a field excluded from `repr`, and every error names a secret
by its position only.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from enum import StrEnum

from shared.tickets.errors import SignatureError, SignatureErrorCode

WHSEC_PREFIX = "whsec_"
MAX_SECRETS = 5
# Standard Webhooks: symmetric secrets are random, at least 24 bytes and at most 64 (512 bits).
WHSEC_MIN_BYTES, WHSEC_MAX_BYTES = 24, 64
# Jira admin webhook secrets are used as typed; refuse ones too short to resist guessing.
RAW_MIN_CHARS, RAW_MAX_CHARS = 16, 256
# When the platform cannot resolve a Key Vault reference (secret missing, no read access) the app
# setting keeps the reference text itself; it names the vault and secret, so it is no secret at all.
KEY_VAULT_REFERENCE_PREFIX = "@microsoft.keyvault("


class SecretFormat(StrEnum):
    """How a configured secret is written: `whsec_<base64>` (Standard Webhooks) or raw text (Jira)."""

    WHSEC = "whsec"
    RAW = "raw"


@dataclass(frozen=True, slots=True)
class Secret:
    """One HMAC key; `position` (1-based) identifies it in messages, the key never appears."""

    key: bytes = field(repr=False)
    position: int = 1

    def __repr__(self) -> str:
        return f"Secret(#{self.position}, <redacted>)"

    __str__ = __repr__


def parse_secrets(value: str | None, fmt: SecretFormat = SecretFormat.WHSEC) -> tuple[Secret, ...]:
    """Parse a comma-separated secret list; raise SignatureError(bad_secret_config) naming positions only."""
    items = [item.strip() for item in (value or "").split(",")]
    items = [item for item in items if item]
    if not items:
        raise SignatureError(SignatureErrorCode.BAD_SECRET_CONFIG, "no secret configured")
    if len(items) > MAX_SECRETS:
        raise SignatureError(SignatureErrorCode.BAD_SECRET_CONFIG, f"more than {MAX_SECRETS} secrets")
    for position, item in enumerate(items, start=1):
        if item.lower().startswith(KEY_VAULT_REFERENCE_PREFIX):
            raise _bad(position, "is an unresolved Key Vault reference: the secret is missing or the "
                       "identity may not read it (Key Vault Secrets User)")
    decode = _decode_whsec if fmt is SecretFormat.WHSEC else _decode_raw
    secrets = tuple(Secret(decode(item, n), n) for n, item in enumerate(items, start=1))
    if len({s.key for s in secrets}) != len(secrets):
        raise SignatureError(SignatureErrorCode.BAD_SECRET_CONFIG, "the same secret is listed twice")
    return secrets


def _decode_whsec(item: str, position: int) -> bytes:
    if not item.startswith(WHSEC_PREFIX):
        raise _bad(position, f"does not start with {WHSEC_PREFIX!r}")
    encoded = item[len(WHSEC_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(position, "is not base64 after the prefix") from None
    if not WHSEC_MIN_BYTES <= len(key) <= WHSEC_MAX_BYTES:
        raise _bad(position, f"must decode to {WHSEC_MIN_BYTES}..{WHSEC_MAX_BYTES} bytes")
    return key


def _decode_raw(item: str, position: int) -> bytes:
    if not RAW_MIN_CHARS <= len(item) <= RAW_MAX_CHARS:
        raise _bad(position, f"must be {RAW_MIN_CHARS}..{RAW_MAX_CHARS} characters")
    return item.encode("utf-8")


def _bad(position: int, why: str) -> SignatureError:
    return SignatureError(SignatureErrorCode.BAD_SECRET_CONFIG, f"secret #{position} {why}")

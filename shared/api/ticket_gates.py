"""The gates a webhook passes before anything is recorded: envelope, signature, contract.

Each gate raises a `Refusal` with the documented status and a code, and nothing more: a signature
failure says which check failed (never a MAC or a secret); a contract failure lists the field errors.
The source is chosen by the route, never by a header.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from shared.api.answers import Refusal, unavailable
from shared.api.wiring import ApiServices
from shared.tickets.adapters import get_source, load_source
from shared.tickets.decisions import Decision
from shared.tickets.errors import ConfigError, PayloadError, SignatureError, SignatureErrorCode
from shared.tickets.signatures import (
    JiraHubSignature,
    SchemeName,
    SignatureScheme,
    StandardWebhooks,
    Verified,
)
from shared.tickets.signing_secrets import SecretFormat, parse_secrets

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 64
log = logging.getLogger("pimwarden.tickets")


def check_envelope(source: str, headers: Mapping[str, str], body: bytes) -> None:
    """404 unknown source, 413 over 256 KB, 415 not JSON."""
    try:
        get_source(source)
    except KeyError:
        raise Refusal(404, "unknown_source", "no ticket source by this name") from None
    if len(body) > MAX_BODY_BYTES:
        raise Refusal(413, "body_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise Refusal(415, "unsupported_media_type", "send Content-Type: application/json")


def authenticate(api: ApiServices, source: str, headers: Mapping[str, str], body: bytes) -> Verified:
    """Verify the source's signature over the raw bytes; 401 with a code only."""
    scheme = _scheme(api, source)
    try:
        return scheme.verify(headers, body)
    except SignatureError as error:
        if error.code is SignatureErrorCode.BAD_SECRET_CONFIG:
            raise _misconfigured(source, error.hint) from None
        raise Refusal(401, error.code.value) from None


def _scheme(api: ApiServices, source: str) -> SignatureScheme:
    settings = api.config.sources[source]
    fmt = SecretFormat.RAW if settings.scheme is SchemeName.JIRA else SecretFormat.WHSEC
    try:
        secrets = parse_secrets(settings.secrets, fmt)
    except SignatureError as error:
        raise _misconfigured(source, error.hint) from None
    if settings.scheme is SchemeName.JIRA:
        return JiraHubSignature(secrets, api.engine.clock)
    return StandardWebhooks(secrets, api.engine.clock)


def _misconfigured(source: str, hint: str) -> Refusal:
    log.error("ticket source %s: PIMWARDEN_TICKETS_%s_SECRETS is unusable: %s", source, source.upper(), hint)
    return unavailable("source_not_configured", "this source's secrets are not configured")


def decide(api: ApiServices, source: str, body: bytes) -> Decision:
    """Parse the JSON and let the source's adapter decide; 400 with field errors."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Refusal(
            400,
            "invalid_json",
            "the body is not UTF-8 JSON",
            errors=[{"path": "", "message": type(error).__name__}],
        ) from None
    try:
        adapter = load_source(source, api.config.sources[source].mapping)
    except ConfigError as error:
        log.error("ticket source %s: %s", source, error)
        raise unavailable("source_not_configured", "this source's field mapping is not valid") from None
    try:
        return adapter(payload)
    except PayloadError as error:
        raise Refusal(
            400,
            "invalid_payload",
            "the payload breaks the contract",
            errors=[e.as_json() for e in error.errors],
        ) from None
    except RecursionError:
        raise Refusal(400, "invalid_payload", "the payload is nested too deeply") from None

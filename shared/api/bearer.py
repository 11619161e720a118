"""Entra ID bearer tokens for the operator API, validated in code with PyJWT.

Function keys are shared secrets: any holder is anonymous. A token says who the operator is, so the
audit trail records `operator:<upn>` instead of "someone with the key". Checked: signature against the
tenant's published keys (JWKS, fetched asynchronously and cached; refetched once when a new key id
appears, as Entra rotates keys; only RSA keys published for signing count), RS256 only, issuer,
audience, expiry and not-before (60 s leeway), and the app role the route needs (`roles` claim): the
reader role for reads, the operator role for writes (the operator role also allows reads). Failures
answer 401 (no or bad token) or 403 (missing role) with a code only; the token is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from shared.api.answers import Refusal
from shared.api.config import TokenSettings

LEEWAY_SECONDS = 60
KEYS_TTL_SECONDS = 3600
REFETCH_AFTER_SECONDS = 300
FETCH_TIMEOUT_SECONDS = 5.0
FAILURE_MEMORY_SECONDS = 10.0
log = logging.getLogger("pimwarden.api.tokens")
_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@dataclass(frozen=True)
class Operator:
    """Who called: the audit cause is `operator:<name>`."""

    name: str
    object_id: str
    roles: frozenset[str]

    @property
    def cause(self) -> str:
        return f"operator:{self.name}"


class JwksCache:
    """The tenant's RSA signing keys, fetched with httpx and cached; one refetch for an unknown key id.

    Concurrent requests that need a fetch share one (single flight); a failed fetch is remembered for
    `FAILURE_MEMORY_SECONDS` so a key endpoint that is down costs one fetch, not one per request; and a
    fetch (connect, read, parse) is bounded by `fetch_timeout_s` in total, so no request waits longer.
    """

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        fetch_timeout_s: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self._url = url
        self._transport = transport
        self._timeout = fetch_timeout_s
        self._keys: dict[str, Any] = {}
        self._fetched = -1e9
        self._failed = -1e9
        self._failure = ""
        self._inflight: asyncio.Task[None] | None = None

    async def key(self, kid: str) -> Any:
        """The public key with id `kid`; Refusal(401) when the tenant does not publish it."""
        age = time.monotonic() - self._fetched
        if age > KEYS_TTL_SECONDS or (kid not in self._keys and age > REFETCH_AFTER_SECONDS):
            await self._refresh()
        if kid not in self._keys:
            raise Refusal(401, "unknown_signing_key", headers=_CHALLENGE)
        return self._keys[kid]

    async def _refresh(self) -> None:
        if self._inflight is None and not self._recently_failed():
            self._inflight = asyncio.ensure_future(self._fetch())
            self._inflight.add_done_callback(self._landed)
        if self._inflight is not None:
            await asyncio.shield(self._inflight)  # one waiter giving up does not cancel the others' fetch
        if self._recently_failed():
            wait = max(1, math.ceil(FAILURE_MEMORY_SECONDS - (time.monotonic() - self._failed)))
            raise Refusal(503, "signing_keys_unavailable", self._failure, headers={"Retry-After": str(wait)})

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._inflight = None

    def _recently_failed(self) -> bool:
        return time.monotonic() - self._failed < FAILURE_MEMORY_SECONDS

    async def _fetch(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                    data = response.json()
            self._keys = signing_keys(data)
            self._fetched = time.monotonic()
        except (httpx.HTTPError, ValueError, TimeoutError) as error:
            self._failed, self._failure = time.monotonic(), type(error).__name__
            log.warning("signing keys unavailable: %s", self._failure)


def signing_keys(data: object) -> dict[str, Any]:
    """The RS256 signing keys of a JWK set, by key id; keys of another type or use are left out.

    ValueError when the document is not a JWK set (`{"keys": [...]}`).
    """
    items = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("not a JWK set")
    keys: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or not _is_rsa_signing_key(item):
            continue
        try:
            keys[item["kid"]] = jwt.PyJWK(item, algorithm="RS256").key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue  # a malformed key is not one we can check a signature with
    return keys


def _is_rsa_signing_key(item: Mapping[str, Any]) -> bool:
    ops = item.get("key_ops")
    return (
        item.get("kty") == "RSA"
        and isinstance(item.get("kid"), str)
        and item.get("use", "sig") == "sig"
        and item.get("alg", "RS256") == "RS256"
        and (ops is None or (isinstance(ops, list) and "verify" in ops))
    )


class TokenValidator:
    """Turns an Authorization header into an Operator, or refuses with 401/403."""

    def __init__(self, settings: TokenSettings, keys: JwksCache | None) -> None:
        self._settings = settings
        self._keys = keys

    async def operator(self, headers: Mapping[str, str], *, write: bool) -> Operator:
        """The caller, when the bearer token is valid and carries the role the route needs."""
        if not self._settings.configured or self._keys is None:
            raise Refusal(
                401, "bearer_not_configured", "set PIMWARDEN_API_AUDIENCE and PIMWARDEN_API_TENANT_ID"
            )
        token = _bearer(headers)
        claims = await self._claims(token)
        operator = _operator(claims)
        needed = self._settings.operator_role if write else self._settings.reader_role
        if needed not in operator.roles and self._settings.operator_role not in operator.roles:
            raise Refusal(403, "missing_app_role", f"the token needs the app role {needed}")
        return operator

    async def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refusal(401, "malformed_token", headers=_CHALLENGE) from None
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise Refusal(401, "unsupported_token", headers=_CHALLENGE)
        assert self._keys is not None
        key = await self._keys.key(header["kid"])
        s = self._settings
        try:
            return jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=list(s.audiences),
                issuer=s.issuers,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Refusal(401, "token_expired", headers=_CHALLENGE) from None
        except jwt.PyJWTError as error:
            raise Refusal(401, _code(error), headers=_CHALLENGE) from None


def _bearer(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, "missing_bearer_token", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _operator(claims: Mapping[str, Any]) -> Operator:
    roles = claims.get("roles")
    name = next(
        (
            str(claims[c])
            for c in ("upn", "preferred_username", "unique_name", "azp", "appid")
            if isinstance(claims.get(c), str) and claims[c]
        ),
        "",
    )
    return Operator(
        name or str(claims.get("oid", "unknown")),
        str(claims.get("oid", "")),
        frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset(),
    )


def _code(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.InvalidAudienceError):
        return "wrong_audience"
    if isinstance(error, jwt.InvalidIssuerError):
        return "wrong_issuer"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "token_not_yet_valid"
    if isinstance(error, jwt.InvalidSignatureError):
        return "bad_signature"
    return "invalid_token"

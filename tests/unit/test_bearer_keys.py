"""The operator API's key set, against a real HTTP key server on 127.0.0.1: only RSA signing keys count,
a broken or slow key endpoint is a bounded 503 (never a 500), and waiting requests share one fetch."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devstack.process import free_port
from shared.api import bearer
from shared.api.answers import Refusal
from shared.api.bearer import JwksCache, TokenValidator
from shared.api.config import TokenSettings

TENANT = "11111111-2222-3333-4444-555555555555"
ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def rsa_jwk(kid: str, **extra: Any) -> dict[str, Any]:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key())), "kid": kid, **extra}


def ec_jwk(kid: str) -> dict[str, Any]:
    return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key())), "kid": kid, "use": "sig"}


def token(kid: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "api://pimwarden", "exp": now + 600, "nbf": now,
              "upn": "olga@contoso.com", "roles": ["PimWarden.Reader"]}
    return jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": kid})


@dataclass
class KeyServer:
    """A tiny HTTP server answering every GET with `status` and `body` after `delay` seconds."""

    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    requests: int = 0
    port: int = 0
    _server: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/discovery/v2.0/keys"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        await asyncio.sleep(self.delay)
        head = f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + self.body)
        await writer.drain()
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[KeyServer]:
    served = KeyServer()
    served._server = await asyncio.start_server(served._serve, "127.0.0.1", 0)
    served.port = served._server.sockets[0].getsockname()[1]
    async with served._server:
        yield served


def validator(keys: JwksCache) -> TokenValidator:
    return TokenValidator(TokenSettings(TENANT, ("api://pimwarden",), (ISSUER,), "unused"), keys)


async def outcome(check: Awaitable[Any]) -> tuple[int, str]:
    try:
        await check
    except Refusal as refusal:
        return refusal.status, refusal.error_code
    return 200, "ok"


async def many(n: int, call: Callable[[], Awaitable[Any]]) -> list[tuple[int, str]]:
    return list(await asyncio.gather(*(outcome(call()) for _ in range(n))))


async def test_only_rsa_signing_keys_are_used(server: KeyServer) -> None:
    server.body = json.dumps({"keys": [
        ec_jwk("ec1"), rsa_jwk("enc1", use="enc"), rsa_jwk("ps1", alg="PS256"),
        rsa_jwk("ops1", key_ops=["encrypt"]),
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, "not-a-key", rsa_jwk("sig1", use="sig"),
    ]}).encode()
    check = validator(JwksCache(server.url))
    good = check.operator({"authorization": f"Bearer {token('sig1')}"}, write=False)
    assert await outcome(good) == (200, "ok")
    for kid in ("ec1", "enc1", "ps1", "ops1", "broken"):
        got = await outcome(check.operator({"authorization": f"Bearer {token(kid)}"}, write=False))
        assert got == (401, "unknown_signing_key"), kid


@pytest.mark.parametrize("body", [b"[]", b'[{"kty": "RSA"}]', b'{"keys": {}}', b"null", b"<html>"])
async def test_a_key_set_that_is_not_one_is_503_not_500(server: KeyServer, body: bytes) -> None:
    server.body = body
    got = await outcome(JwksCache(server.url).key("k1"))
    assert got == (503, "signing_keys_unavailable")


async def test_requests_waiting_while_the_endpoint_fails_share_one_fetch(server: KeyServer) -> None:
    server.status, server.delay = 503, 0.2
    keys = JwksCache(server.url)
    assert await many(25, lambda: keys.key("k1")) == [(503, "signing_keys_unavailable")] * 25
    assert await many(5, lambda: keys.key("k1")) == [(503, "signing_keys_unavailable")] * 5  # remembered
    assert server.requests == 1


async def test_a_closed_port_is_fetched_once_for_all_waiting_requests() -> None:
    fetches = 0

    class Counting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal fetches
            fetches += 1
            return await super().handle_async_request(request)

    keys = JwksCache(f"http://127.0.0.1:{free_port()}/keys", transport=Counting())
    assert set(await many(25, lambda: keys.key("k1"))) == {(503, "signing_keys_unavailable")}
    assert fetches == 1


async def test_a_slow_endpoint_holds_no_request_longer_than_the_fetch_bound(server: KeyServer) -> None:
    server.delay = 5.0
    keys = JwksCache(server.url, fetch_timeout_s=0.5)
    started = time.monotonic()
    assert set(await many(25, lambda: keys.key("k1"))) == {(503, "signing_keys_unavailable")}
    assert time.monotonic() - started < 2.0
    assert server.requests == 1


async def test_keys_are_fetched_again_once_the_failure_is_forgotten(
    server: KeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bearer, "FAILURE_MEMORY_SECONDS", 0.2)
    server.status = 500
    keys = JwksCache(server.url)
    assert await outcome(keys.key("sig1")) == (503, "signing_keys_unavailable")
    server.status, server.body = 200, json.dumps({"keys": [rsa_jwk("sig1")]}).encode()
    await asyncio.sleep(0.3)
    assert await outcome(keys.key("sig1")) == (200, "ok")
    assert server.requests == 2

"""Fixtures for the HTTP side: graphsim (demo tenant, onboarded by one engine run) + Azurite tables and
queue, a local Entra key set for bearer tokens, and helpers that call the real function entry points."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import httpx
import jwt
import pytest
from azure.functions.queue import QueueMessage
from cryptography.hazmat.primitives.asymmetric import rsa

from graphsim.app import GraphSim
from shared.api import wiring
from shared.api.bearer import JwksCache, TokenValidator
from shared.api.config import ApiConfig, SourceSettings, TokenSettings
from shared.api.reconcile_queue import ReconcileQueue
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.functions import operator, reconcile, requests_status, tickets
from shared.storage import StateStore
from shared.tickets.signatures import JiraHubSignature, SchemeName, StandardWebhooks
from shared.tickets.signing_secrets import SecretFormat, parse_secrets
from tests.integration.engine.simenv import demo_sim, make_services

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
JIRA_SECRET = "jira-secret-0123456789abcdef"
TENANT = "11111111-2222-3333-4444-555555555555"
AUDIENCE = "api://pimwarden"
JWKS_URL = "https://login.example.test/keys"
FINREPORT = "23b8c1e9-3924-46de-beb1-3b9046685257"
PAYROLL = "972a8469-1641-4f82-8b9d-2434e465e150"
TRADING = "9a1de644-815e-46d1-bb8f-aa1837f8a88b"
WAREHOUSE = "c241330b-01a9-471f-9e8a-774bcf36d58b"
EXCHANGE = "e2acf72f-9e57-4f7a-a0ee-89aed453dd32"  # Microsoft first-party, tagged HighValue in the demo
MANAGED_IDENTITY = "a9488d99-0bbb-4599-91ce-5dd2b45ed1f0"  # a managed identity, tagged HighValue too
ADA = "5be6128e-18c2-4797-a142-ea7d17be3111"
GRACE = "43b7a3a6-9a8d-4a03-980d-7b71d8f56413"
BREAKGLASS = "ec1b8ca1-f91e-4d4c-9ff4-9b7889463e85"
GUEST = "4b0dbb41-8d52-48f1-942c-3fe860e7a113"
JIRA_MAPPING = {
    "app_field": "customfield_10050",
    "user_field": "customfield_10051",
    "duration_field": "customfield_10052",
}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Env:
    """One test's world."""

    sim: GraphSim
    engine: Services
    queue: ReconcileQueue
    api: wiring.ApiServices

    def now(self) -> int:
        return int(self.sim.tenant.now.timestamp())


def jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def config(**changes: Any) -> ApiConfig:
    sources = {
        "generic": SourceSettings("generic", SchemeName.STANDARD_WEBHOOKS, f"{OLD},{NEW}"),
        "servicenow": SourceSettings("servicenow", SchemeName.STANDARD_WEBHOOKS, NEW),
        "jira": SourceSettings("jira", SchemeName.JIRA, JIRA_SECRET, json.dumps(JIRA_MAPPING)),
    }
    tokens = TokenSettings(
        TENANT, (AUDIENCE,), (f"https://login.microsoftonline.com/{TENANT}/v2.0",), JWKS_URL
    )
    return ApiConfig(
        **{"sources": sources, "register_sources": frozenset({"generic"}), "tokens": tokens, **changes}
    )


def install_reader_tokens(engine: Any) -> None:
    """Only the HTTP side's token check, over the local key set (the compliance routes need no more)."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks()))
    tokens = TokenValidator(config().tokens, JwksCache(JWKS_URL, transport=transport))
    wiring.install(wiring.ApiServices(engine, config(), None, tokens))  # type: ignore[arg-type]


@pytest.fixture
async def env(state_store: StateStore, azurite: str) -> AsyncIterator[Env]:
    """graphsim demo tenant onboarded by one engine run; ApiServices installed for the entry points."""
    sim = demo_sim()
    engine = make_services(sim, state_store, azurite, protected_principals=frozenset({BREAKGLASS}))
    summary = await enforce(engine, "timer")
    assert summary.failed == 0
    queue = ReconcileQueue.from_connection_string(azurite, f"q{uuid.uuid4().hex[:12]}")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks()))
    tokens = TokenValidator(config().tokens, JwksCache(JWKS_URL, transport=transport))
    api = wiring.ApiServices(engine, config(), queue, tokens)
    wiring.install(api)
    try:
        yield Env(sim, engine, queue, api)
    finally:
        wiring.uninstall()
        await queue.close()


def sign_standard(
    env: Env, body: bytes, *, secret: str = NEW, msg_id: str | None = None, at: int | None = None
) -> dict[str, str]:
    """Standard Webhooks headers for `body`."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    stamp = env.now() if at is None else at
    scheme = StandardWebhooks(parse_secrets(secret), env.engine.clock)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": scheme.sign(msg_id, stamp, body),
    }


def sign_jira(env: Env, body: bytes, secret: str = JIRA_SECRET) -> dict[str, str]:
    """Jira admin webhook headers for `body`."""
    scheme = JiraHubSignature(parse_secrets(secret, SecretFormat.RAW), env.engine.clock)
    return {
        "content-type": "application/json",
        "x-hub-signature": scheme.sign(body),
        "x-atlassian-webhook-identifier": uuid.uuid4().hex,
    }


async def post_ticket(source: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST /api/tickets/{source} through the real entry point."""
    req = func.HttpRequest(
        method="POST",
        url=f"http://localhost/api/tickets/{source}",
        body=body,
        headers=headers,
        route_params={"source": source},
    )
    resp = await tickets.ticket_webhook(req)
    assert resp.mimetype == "application/json"
    return resp.status_code, json.loads(resp.get_body())


async def get_status(rid: str) -> dict[str, Any]:
    """GET /api/requests/{id} through the real entry point."""
    req = func.HttpRequest(
        method="GET", url=f"http://localhost/api/requests/{rid}", body=b"", route_params={"requestId": rid}
    )
    resp = await requests_status.request_status_http(req)
    assert resp.status_code == 200, resp.get_body()
    body: dict[str, Any] = json.loads(resp.get_body())
    return body


async def drain(env: Env) -> int:
    """Deliver every queued reconcile message to the real queue trigger; how many were delivered."""
    texts = await env.queue.receive_texts()
    for n, text in enumerate(texts):
        await reconcile.reconcile(QueueMessage(id=str(n), body=text.encode(), dequeue_count=1))
    return len(texts)


def token(*, roles: tuple[str, ...] = ("PimWarden.Operator",), **claims: Any) -> str:
    """A bearer token signed with the local key set."""
    now = int(time.time())
    payload = {
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "aud": AUDIENCE,
        "exp": now + 600,
        "iat": now,
        "nbf": now,
        "upn": "olga@contoso.com",
        "oid": "o-1",
        "roles": list(roles),
        **claims,
    }
    return jwt.encode(payload, KEY, algorithm="RS256", headers={"kid": "k1"})


async def call_operator(
    function: Any,
    method: str,
    route: str,
    *,
    bearer: str | None,
    body: bytes = b"",
    params: dict[str, str] | None = None,
    **route_params: str,
) -> tuple[int, dict[str, Any]]:
    """Call an operator entry point."""
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    req = func.HttpRequest(
        method=method,
        url=f"http://localhost/api/{route}",
        body=body,
        headers=headers,
        params=params or {},
        route_params=route_params,
    )
    resp = await function(req)
    return resp.status_code, json.loads(resp.get_body())


OPERATOR = operator

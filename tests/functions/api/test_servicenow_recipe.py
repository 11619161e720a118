"""The ServiceNow record recipe of docs/tickets.md, done exactly as its Business Rule does it: the
record and its catalog variables serialised, signed with the servicenow source's own secret over
`id + '.' + ts + '.' + body`, posted to /api/tickets/servicenow: accepted and granted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path

from shared.api.config import SourceSettings
from shared.tickets.signatures import SchemeName

from .conftest import ADA, FINREPORT, NEW, Env, post_ticket

DOCS = Path(__file__).resolve().parents[3] / "docs" / "tickets.md"


def recipe() -> str:
    text = DOCS.read_text()
    start = text.index("### ServiceNow: Business Rule posting the record itself")
    return text[start : text.index("```\n", text.index("```javascript", start) + 13)]


def test_the_recipe_names_the_record_source_its_own_secret_and_the_signed_string() -> None:
    text = recipe()
    assert "PIMWARDEN_TICKETS_SERVICENOW_SECRETS" in text
    assert "PIMWARDEN_TICKETS_GENERIC_SECRETS" not in text
    assert "/api/tickets/servicenow'" in text
    assert "generateMac(\n        secret.substring(6), 'HmacSHA256', id + '.' + ts + '.' + body)" in text
    assert re.search(r"setRequestHeader\('webhook-signature', 'v1,' \+ mac\)", text)


async def test_a_record_signed_as_the_recipe_says_is_accepted(env: Env) -> None:
    # Only the record source's own secret is configured: the generic secret must not be needed.
    env.api.config.sources["servicenow"] = SourceSettings("servicenow", SchemeName.STANDARD_WEBHOOKS, NEW)
    sys_id = "c" * 32
    body = json.dumps({  # what JSON.stringify makes of the script's object (key order as written)
        "number": "RITM0020001",
        "sys_id": sys_id,
        "state": "2",
        "approval": "approved",
        "sys_updated_on": env.sim.tenant.now.strftime("%Y-%m-%d %H:%M:%S"),
        "short_description": "FinReport access",
        "requested_for": {"value": "d" * 32, "display_value": "Ada Lovelace"},
        "variables": {"pimwarden_user": ADA, "pimwarden_app": FINREPORT, "pimwarden_duration": "P7D"},
    }, separators=(",", ":")).encode()
    msg_id, ts = f"msg_{sys_id}_3", str(env.now())
    # generateMac(base64 key, 'HmacSHA256', data) -> base64 MAC
    mac = hmac.new(base64.b64decode(NEW[6:]), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    status, answer = await post_ticket("servicenow", body, headers)
    assert status == 202, answer
    assert answer["decision"]["kind"] == "grant" and answer["decision"]["principal"] == ADA

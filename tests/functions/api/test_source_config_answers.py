"""A source whose own settings are broken answers 503 source_not_configured (never a 401: the sender did
nothing wrong), and docs/tickets.md lists exactly the 401 codes the signature gate gives."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from shared.api import wiring
from shared.api.config import SourceSettings
from shared.tickets.errors import SignatureErrorCode
from shared.tickets.signatures import SchemeName

from .conftest import Env, config, post_ticket, sign_standard
from .test_tickets_flow import generic

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("secrets", "mapping"), [
    ("whsec_not!base64", None), ("no-prefix-secret-text", None), ("", None), (None, '{"user": '),
])
async def test_broken_source_settings_are_503_source_not_configured(
    env: Env, secrets: str | None, mapping: str | None
) -> None:
    sources = dict(config().sources)
    if secrets is not None:
        sources["generic"] = SourceSettings("generic", SchemeName.STANDARD_WEBHOOKS, secrets or None)
    else:
        sources["generic"] = replace(sources["generic"], mapping=mapping)
    wiring.install(replace(env.api, config=config(sources=sources)))
    body = generic("grant", "RITM1")
    status, answer = await post_ticket("generic", body, sign_standard(env, body))
    assert (status, answer["error_code"]) == (503, "source_not_configured")


def test_the_documented_401_codes_are_the_ones_given() -> None:
    text = (ROOT / "docs" / "tickets.md").read_text(encoding="utf-8")
    table = text.split("A failed check answers `401`", 1)[1].split("\n\n", 2)[1]
    first_cells = [row.split("|")[1] for row in table.splitlines()]
    documented = {code for cell in first_cells for code in re.findall(r"`([a-z_]+)`", cell)}
    given = {code.value for code in SignatureErrorCode} - {SignatureErrorCode.BAD_SECRET_CONFIG.value}
    assert documented == given
    assert "bad_secret_config" not in text and "source_not_configured" in text

"""The preflight asks for a Graph token of the configured cloud, never the global one by default."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken

from shared.doctor.probes import token_check
from shared.doctor.results import Status
from shared.url_rules import graph_scope


class RecordingCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken("t", int(time.time()) + 3600)


async def test_the_token_is_asked_for_the_configured_clouds_graph() -> None:
    credential = RecordingCredential()
    check, token = await token_check(credential, graph_scope("https://graph.microsoft.us/v1.0"))  # type: ignore[arg-type]
    assert (check.status, token) == (Status.PASS, "t")
    assert credential.scopes == ["https://graph.microsoft.us/.default"]

"""`python -m shared permissions`: the admin's Graph token goes only to a Microsoft Graph host (or a
loopback stand-in), asked for that cloud's own scope."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from shared.cli import main as cli
from shared.cli import permissions
from shared.cli.permissions import PermissionsError, cmd_permissions, dev_admin_token

PRINCIPAL = "0b5e3a51-3c0e-4d8e-9b0a-7a6c9f1e2d33"


class RecordingCredential:
    """An admin credential that records every token request; `stop` ends the run after the first."""

    def __init__(self, *, stop: bool = False) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.stop = stop

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        if self.stop:
            raise RuntimeError("stop after the token request")
        return AccessToken(dev_admin_token(), 2**31)

    async def close(self) -> None:
        pass


@pytest.fixture
def credential(monkeypatch: pytest.MonkeyPatch) -> RecordingCredential:
    recording = RecordingCredential(stop=True)
    monkeypatch.setattr(permissions, "admin_credential", lambda kind, base_url: recording)
    return recording


def args(action: str = "check") -> argparse.Namespace:
    return argparse.Namespace(
        action=action, principal=PRINCIPAL, with_protected_groups=False, with_attributes=False,
        credential="azure-cli", dry_run=False,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/v1.0",
        "https://graph.microsoft.com.evil.example/v1.0",
        "https://graph.microsoft.com@evil.example/v1.0",
        "https://graph.microsoft.com:8443/v1.0",
        "http://graph.microsoft.com/v1.0",
    ],
)
async def test_a_base_url_that_is_not_graph_is_refused_before_any_token_is_requested(
    url: str, credential: RecordingCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIMWARDEN_GRAPH_BASE_URL", url)
    with pytest.raises(PermissionsError, match="PIMWARDEN_GRAPH_BASE_URL"):
        await cmd_permissions(args("grant"))
    assert credential.scopes == []


def test_the_cli_exits_non_zero_for_a_non_graph_host(
    credential: RecordingCredential, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIMWARDEN_GRAPH_BASE_URL", "https://evil.example/v1.0")
    assert cli.main(["permissions", "check", "--principal", PRINCIPAL]) == 1
    err = capsys.readouterr().err
    assert "PIMWARDEN_GRAPH_BASE_URL must be a Microsoft Graph host" in err
    assert credential.scopes == []


@pytest.mark.parametrize(
    ("url", "scope"),
    [
        ("https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/.default"),
        ("https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default"),
        ("https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/.default"),
        ("https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn/.default"),
    ],
)
async def test_a_graph_cloud_gets_its_own_token_scope(
    url: str, scope: str, credential: RecordingCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIMWARDEN_GRAPH_BASE_URL", url)
    with pytest.raises(RuntimeError, match="stop after the token request"):
        await cmd_permissions(args())
    assert credential.scopes == [(scope,)]

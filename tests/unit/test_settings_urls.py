"""Where tokens go and what is shown: the Graph host allow-list, the real loopback check, URL redaction."""

from __future__ import annotations

import json

import pytest

from shared.api.config import ApiConfig
from shared.graph.client import build_graph_client
from shared.settings import Settings, SettingsError, StorageSettings
from shared.url_rules import graph_scope, is_loopback_url, redact_url

CONN = "UseDevelopmentStorage=true"
SAS = "sv=2024-05-04&ss=t&sig=SeCrEtSiGnAtUrE%3D"
TENANT = "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize("url", [
    "https://graph.microsoft.com/v1.0", "https://graph.microsoft.us/v1.0/", "https://dod-graph.microsoft.us/v1.0",
    "https://microsoftgraph.chinacloudapi.cn/v1.0", "http://127.0.0.1:8765/v1.0", "https://localhost:9/v1.0",
])
def test_graph_base_url_accepts_microsoft_graph_clouds_and_loopback(url: str) -> None:
    settings = Settings.from_env({"PimWardenStorage": CONN, "PIMWARDEN_GRAPH_BASE_URL": url})
    assert settings.graph_base_url == url


@pytest.mark.parametrize("url", [
    "https://graph.evil.example/v1.0", "https://graph.microsoft.com.evil.example/v1.0",
    "https://user@graph.microsoft.com/v1.0", "https://graph.microsoft.com:8443/v1.0",
    "https://graph.microsoft.com/beta", "https://graph.microsoft.com/v1.0?x=1",
    "http://localhost@evil.example/v1.0", "http://127.0.0.1.evil.example/v1.0",
])
def test_graph_base_url_refuses_any_other_host(url: str) -> None:
    with pytest.raises(SettingsError) as failed:
        Settings.from_env({"PimWardenStorage": CONN, "PIMWARDEN_GRAPH_BASE_URL": url})
    assert [p.split(":")[0] for p in failed.value.problems] == ["PIMWARDEN_GRAPH_BASE_URL"]


def test_the_token_scope_follows_the_cloud_and_is_sent_to_that_host_only() -> None:
    assert graph_scope("https://graph.microsoft.us/v1.0") == "https://graph.microsoft.us/.default"
    assert graph_scope("http://127.0.0.1:1/v1.0") == "https://graph.microsoft.com/.default"
    client = build_graph_client("https://microsoftgraph.chinacloudapi.cn/v1.0", object())
    auth = client.request_adapter._authentication_provider.access_token_provider
    assert auth._scopes == ["https://microsoftgraph.chinacloudapi.cn/.default"]
    assert auth.get_allowed_hosts_validator().get_allowed_hosts() == ["microsoftgraph.chinacloudapi.cn"]


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://localhost:1/keys", True), ("http://127.0.0.1/keys", True), ("http://[::1]:2/keys", True),
    ("http://localhost@evil.example/keys", False), ("http://127.0.0.1@evil.example/", False),
    ("http://user@localhost/keys", False), ("http://127.0.0.1.nip.io/keys", False),
    ("http://localhost.evil.example/", False), ("ftp://localhost/", False), ("http://localhost:x/", False),
])
def test_loopback_is_the_host_not_a_prefix(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


@pytest.mark.parametrize(("url", "ok"), [
    ("https://login.microsoftonline.com/t/discovery/v2.0/keys", True), ("http://127.0.0.1:9/keys", True),
    ("http://localhost@evil.example/keys", False), ("http://127.0.0.1.evil.example/keys", False),
    ("https://user:pw@login.microsoftonline.com/keys", False), ("http://login.microsoftonline.com/k", False),
])
def test_key_set_url_must_be_https_or_real_loopback(url: str, ok: bool) -> None:
    env = {"PIMWARDEN_API_TENANT_ID": TENANT, "PIMWARDEN_API_JWKS_URL": url}
    if ok:
        assert ApiConfig.from_env(env).tokens.jwks_url == url
    else:
        with pytest.raises(SettingsError, match="PIMWARDEN_API_JWKS_URL"):
            ApiConfig.from_env(env)


def test_a_sas_token_in_a_service_uri_is_refused_by_name_and_never_shown() -> None:
    uri = f"https://acct.table.core.windows.net/?{SAS}"
    with pytest.raises(SettingsError) as failed:
        Settings.from_env({"PimWardenStorage__tableServiceUri": uri})
    assert "sig=" not in str(failed.value) and "PimWardenStorage__tableServiceUri" in str(failed.value)
    settings = Settings.from_env({"PimWardenStorage": CONN})
    shown = settings.__class__(storage=StorageSettings(None, uri, f"https://a:b@acct.queue.core.windows.net/?{SAS}"))
    text = json.dumps([shown.describe(), shown.redacted()])
    assert "sig=" not in text and "SeCrEt" not in text and "a:b@" not in text
    assert shown.describe()["storage"]["table_endpoint"] == "https://acct.table.core.windows.net/"


@pytest.mark.parametrize(("url", "shown"), [
    ("https://acct.table.core.windows.net/?sv=1&sig=x", "https://acct.table.core.windows.net/"),
    ("https://u:p@host:8443/p#frag", "https://host:8443/p"), ("http://[::1]:9/x?y", "http://[::1]:9/x"),
    ("not a url", "<redacted>"), ("https://host:bad/", "<redacted>"),
])
def test_redact_url_keeps_scheme_host_port_and_path_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown

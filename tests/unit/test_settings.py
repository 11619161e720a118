"""Settings: defaults, one clear error naming every bad setting, and no secret in any rendering."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from shared.settings import CredentialKind, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
KEY = "c2VjcmV0LWtleS1kby1ub3QtbGVhaw=="
CONN = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};EndpointSuffix=core.windows.net"
BASE = {"PimWardenStorage": CONN}
GUID = "11111111-2222-3333-4444-555555555555"


def problems_of(env: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as failed:
        Settings.from_env(env)
    return failed.value.problems


def test_defaults_with_only_storage() -> None:
    s = Settings.from_env(BASE)
    assert (s.graph_base_url, s.credential, s.table_prefix) == (
        "https://graph.microsoft.com/v1.0", CredentialKind.MANAGED_IDENTITY, "pimwarden")
    assert (s.enforce_schedule, s.full_audit_interval_hours, s.high_value_tag, s.default_profile) == (
        "0 */15 * * * *", 24, "HighValue", "standard")
    assert (s.profiles_path, s.run_budget_seconds, s.identity_client_id) == (None, 240, None)
    assert s.storage.uses_connection_string


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("PIMWARDEN_GRAPH_BASE_URL", "graph.microsoft.com", "absolute http(s) URL"),
    ("PIMWARDEN_GRAPH_BASE_URL", "http://graph.microsoft.com/v1.0", "must use https"),
    ("PIMWARDEN_CREDENTIAL", "client-secret", "one of managed-identity, static-dev-token"),
    ("PIMWARDEN_CREDENTIAL", "static-dev-token", "only allowed with a loopback"),
    ("PIMWARDEN_IDENTITY_CLIENT_ID", "not-a-guid", "GUID"),
    ("PIMWARDEN_TABLE_PREFIX", "pim-warden", "letters and digits"),
    ("PIMWARDEN_TABLE_PREFIX", "9lives", "start with a letter"),
    ("PIMWARDEN_TABLE_PREFIX", "a" * 51, "at most 50"),
    ("PIMWARDEN_ENFORCE_SCHEDULE", "*/15 * * * *", "6-field NCRONTAB"),
    ("PIMWARDEN_ENFORCE_SCHEDULE", "0 */15 * * * $", "characters"),
    ("PIMWARDEN_FULL_AUDIT_INTERVAL_HOURS", "0", ">= 1"),
    ("PIMWARDEN_FULL_AUDIT_INTERVAL_HOURS", "1.5", "whole number"),
    ("PIMWARDEN_HIGH_VALUE_TAG", "   x".replace("x", "\t"), None),
    ("PIMWARDEN_RUN_BUDGET_SECONDS", "600", "below the host functionTimeout (600 s)"),
    ("PIMWARDEN_RUN_BUDGET_SECONDS", "soon", "whole number"),
    ("AzureFunctionsJobHost__functionTimeout", "10 minutes", "hh:mm:ss"),
    ("PimWardenStorage", "no-equals-sign", "Key=Value"),
    ("PimWardenStorage", "AccountName=acct", "AccountKey or SharedAccessSignature"),
    ("PimWardenStorage", "AccountKey=abc", "AccountName"),
    ("PimWardenStorage__clientId", "nope", "GUID"),
])
def test_each_malformed_setting_is_named(name: str, value: str, reason: str | None) -> None:
    env = {**BASE, name: value}
    if reason is None:  # blank is the same as unset: the default applies
        assert Settings.from_env(env).high_value_tag == "HighValue"
        return
    problems = problems_of(env)
    assert len(problems) == 1 and problems[0].startswith(f"{name}: ") and reason in problems[0], problems


def test_missing_storage_is_named_with_both_ways_to_fix_it() -> None:
    [problem] = problems_of({})
    assert problem.startswith("PimWardenStorage: missing") and "__tableServiceUri" in problem


def test_storage_uri_must_be_https_and_not_combined_with_a_connection_string() -> None:
    [problem] = problems_of({"PimWardenStorage__tableServiceUri": "http://acct.table.core.windows.net"})
    assert problem.startswith("PimWardenStorage__tableServiceUri: must be an https URL")
    both = {**BASE, "PimWardenStorage__tableServiceUri": "https://acct.table.core.windows.net"}
    assert "not both" in problems_of(both)[0]


def test_every_problem_is_reported_at_once() -> None:
    env = {"PIMWARDEN_TABLE_PREFIX": "-", "PIMWARDEN_RUN_BUDGET_SECONDS": "x",
           "PIMWARDEN_GRAPH_BASE_URL": "ftp://x", "PIMWARDEN_IDENTITY_CLIENT_ID": "y"}
    named = sorted(p.split(":")[0] for p in problems_of(env))
    assert named == ["PIMWARDEN_GRAPH_BASE_URL", "PIMWARDEN_IDENTITY_CLIENT_ID",
                     "PIMWARDEN_RUN_BUDGET_SECONDS", "PIMWARDEN_TABLE_PREFIX", "PimWardenStorage"]
    assert "PIMWARDEN_TABLE_PREFIX" in str(SettingsError(list(named)))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/v1.0", "http://localhost:1/v1.0", "http://[::1]:9/v1"])
def test_static_dev_token_and_http_are_allowed_on_loopback(url: str) -> None:
    env = {**BASE, "PIMWARDEN_GRAPH_BASE_URL": url, "PIMWARDEN_CREDENTIAL": "static-dev-token"}
    s = Settings.from_env(env)
    assert s.credential is CredentialKind.STATIC_DEV_TOKEN


def test_function_timeout_override_raises_the_budget_ceiling() -> None:
    env = {**BASE, "AzureFunctionsJobHost__functionTimeout": "00:30:00",
           "PIMWARDEN_RUN_BUDGET_SECONDS": "900"}
    assert Settings.from_env(env).run_budget_seconds == 900


def test_managed_identity_storage_and_client_id_fallback() -> None:
    env = {"PimWardenStorage__tableServiceUri": "https://acct.table.core.windows.net",
           "PIMWARDEN_IDENTITY_CLIENT_ID": GUID}
    s = Settings.from_env(env)
    assert s.storage_client_id() == GUID and not s.storage.uses_connection_string
    assert s.describe()["storage"] == {"mode": "managed-identity", "table_prefix": "pimwarden",
                                       "table_endpoint": "https://acct.table.core.windows.net"}
    other = "99999999-2222-3333-4444-555555555555"
    assert Settings.from_env({**env, "PimWardenStorage__clientId": other}).storage_client_id() == other


def test_secrets_never_appear_in_repr_str_redacted_or_describe() -> None:
    s = Settings.from_env(BASE)
    for rendering in (repr(s), str(s), json.dumps(s.redacted()), json.dumps(s.describe())):
        assert KEY not in rendering and "AccountKey" not in rendering
    assert s.redacted()["storage"]["connection_string"] == "<redacted>"
    assert s.describe()["storage"]["table_endpoint"] == "https://acct.table.core.windows.net"
    assert replace(s, table_prefix="x").storage.connection_string == CONN


def test_error_for_a_malformed_connection_string_does_not_quote_it() -> None:
    problems = problems_of({"PimWardenStorage": f"AccountName=a;{KEY}"})
    assert KEY not in str(SettingsError(list(problems)))


def test_sample_settings_are_valid_and_list_every_setting() -> None:
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    s = Settings.from_env(sample)
    assert s.credential is CredentialKind.STATIC_DEV_TOKEN and s.storage.uses_connection_string
    source = (ROOT / "shared" / "settings.py").read_text()
    names = set(re.findall(r'"(PIMWARDEN_[A-Z_]+)"', source)) | {
        "PimWardenStorage", "PimWardenStorage__tableServiceUri", "PimWardenStorage__queueServiceUri",
        "PimWardenStorage__clientId"}
    assert len(names) >= 14
    assert names <= set(sample), names - set(sample)
    readme = (ROOT / "README.md").read_text()
    assert [n for n in sorted(names) if f"`{n}`" not in readme] == []

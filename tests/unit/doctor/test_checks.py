"""The preflight's pure checks: budget and host timeout, token roles, webhook sources, probe errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.api.config import ApiConfig, SourceSettings
from shared.doctor import checks
from shared.doctor.results import Status
from shared.graph.errors import PermanentGraphError, TransientGraphError
from shared.permissions.claims import TokenClaims, TokenFormatError, read_claims
from shared.permissions.manifest import Option, load_manifest

MANIFEST = load_manifest()
ALWAYS = frozenset(p.name for p in MANIFEST.always())


def claims(roles: frozenset[str]) -> TokenClaims:
    return TokenClaims(object_id="oid-1", app_id="app-1", roles=roles, app_only=True)


def test_host_timeout_from_host_json_the_override_wins(tmp_path: Path) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"functionTimeout": "00:10:00"}))
    assert checks.host_function_timeout(host, {}) == (600, "host.json functionTimeout")
    override = {"AzureFunctionsJobHost__functionTimeout": "00:05:00"}
    assert checks.host_function_timeout(host, override)[0] == 300
    host.write_text(json.dumps({"functionTimeout": "1.00:00:00"}))
    assert checks.host_function_timeout(host, {})[0] == 86400
    host.write_text("{}")
    assert checks.host_function_timeout(host, {})[0] == checks.UNSET_TIMEOUT_SECONDS
    host.write_text(json.dumps({"functionTimeout": "ten minutes"}))
    with pytest.raises(ValueError, match="functionTimeout"):
        checks.host_function_timeout(host, {})


def test_the_shipped_host_json_leaves_room_for_the_default_budget() -> None:
    timeout, _ = checks.host_function_timeout(checks.HOST_JSON, {})
    assert checks.budget_check(240, timeout, "host.json").status is Status.PASS


@pytest.mark.parametrize(("budget", "status"), [(599, Status.PASS), (600, Status.FAIL), (900, Status.FAIL)])
def test_budget_must_end_before_the_host_timeout(budget: int, status: Status) -> None:
    assert checks.budget_check(budget, 600, "host.json").status is status


def test_exact_roles_pass_missing_fail_each_superfluous_warns() -> None:
    assert [c.status for c in checks.roles_checks(claims(ALWAYS), MANIFEST, frozenset())] == [Status.PASS]
    missing = checks.roles_checks(
        claims(ALWAYS - {"Directory.Read.All", "Group.ReadWrite.All"}), MANIFEST, frozenset()
    )
    assert {c.name for c in missing if c.status is Status.FAIL} == {
        "permission Directory.Read.All",
        "permission Group.ReadWrite.All",
    }
    extra = checks.roles_checks(claims(ALWAYS | {"Mail.Read"}), MANIFEST, frozenset())
    assert [c.status for c in extra] == [Status.PASS, Status.WARN]
    assert "Mail.Read" in extra[1].detail


def test_an_optional_permission_is_needed_only_with_its_option() -> None:
    roles = claims(ALWAYS)
    [failure] = [
        c
        for c in checks.roles_checks(roles, MANIFEST, frozenset({Option.ATTRIBUTES}))
        if c.status is Status.FAIL
    ]
    assert failure.name == "permission CustomSecAttributeAssignment.Read.All"
    assert failure.fix == "python -m shared permissions grant --principal oid-1 --with-attributes"
    held = claims(ALWAYS | {"CustomSecAttributeAssignment.Read.All"})
    assert checks.roles_checks(held, MANIFEST, frozenset())[-1].status is Status.WARN


def test_probe_errors_name_graphs_answer_and_for_403_the_permission() -> None:
    denied = PermanentGraphError(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        request_id="r-1",
    )
    check = checks.probe_check("list groups", ("Group.ReadWrite.All",), denied, None, frozenset())
    assert check.status is Status.FAIL
    assert check.detail == (
        "Graph 403 Authorization_RequestDenied: Insufficient privileges to complete the "
        "operation. (request-id r-1)"
    )
    assert check.fix is not None and check.fix.startswith(
        "grant Group.ReadWrite.All: python -m shared permissions"
    )
    outage = checks.probe_check(
        "list groups", ("Group.ReadWrite.All",), TransientGraphError(503, "x", "y"), None, frozenset()
    )
    assert outage.status is Status.FAIL and "grant" not in (outage.fix or "")


def sources(**env: str) -> dict[str, SourceSettings]:
    return dict(ApiConfig.from_env(env).sources)


def test_webhook_sources_secret_format_and_mapping() -> None:
    good = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    found = {
        c.name: c
        for c in checks.webhook_checks(
            sources(
                PIMWARDEN_TICKETS_GENERIC_SECRETS=good,
                PIMWARDEN_TICKETS_SERVICENOW_SECRETS="not-whsec",
                PIMWARDEN_TICKETS_JIRA_SECRETS="a-long-enough-jira-secret",
                PIMWARDEN_TICKETS_JIRA_MAPPING="{",
            )
        )
    }
    assert found["webhook source generic"].status is Status.PASS
    assert found["webhook source servicenow"].status is Status.FAIL
    assert "not-whsec" not in found["webhook source servicenow"].detail
    assert found["webhook source jira"].status is Status.FAIL
    assert "PIMWARDEN_TICKETS_JIRA_MAPPING" in found["webhook source jira"].detail


def test_a_mapping_without_a_secret_is_a_failure_and_nothing_set_is_skipped() -> None:
    found = {c.name: c for c in checks.webhook_checks(sources(PIMWARDEN_TICKETS_GENERIC_MAPPING="{}"))}
    assert found["webhook source generic"].status is Status.FAIL
    assert found["webhook source servicenow"].status is Status.SKIP


def test_token_claims_are_read_and_a_non_jwt_is_refused() -> None:
    import base64

    payload = base64.urlsafe_b64encode(json.dumps({"oid": "ABC", "roles": ["A", 1], "idtyp": "app"}).encode())
    read = read_claims(f"e30.{payload.decode().rstrip('=')}.")
    assert read == TokenClaims(object_id="abc", app_id=None, roles=frozenset({"A"}), app_only=True)
    with pytest.raises(TokenFormatError):
        read_claims("opaque-token")

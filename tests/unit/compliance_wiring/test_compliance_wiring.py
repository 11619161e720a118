"""Pure wiring pieces: settings, continuation tokens, report query parsing, month ranges, schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.compliance.service import BadToken, ComplianceConfig, decode_token, encode_token
from shared.functions import compliance as fn
from shared.settings import SettingsError
from shared.storage.events import Position, months_between

NOW = datetime(2025, 5, 1, tzinfo=UTC)


def test_config_defaults_and_every_bad_setting_named_at_once() -> None:
    # PIM Warden's own ids are read as the engine reads them: GUIDs, lower-cased (an id pasted in upper
    # case still recognises its own requests), anything else refused
    upper = "2ED6E239-D71A-4E08-A2B9-E5D069B101B3"
    config = ComplianceConfig.from_env({"PIMWARDEN_SERVICE_PRINCIPAL_ID": f" {upper} , {upper.lower()} "})
    assert (config.retention_days, config.lapse_window_days, config.overlap_minutes) == (400, 14, 15)
    assert config.warden_principal_ids == frozenset({upper.lower()})
    with pytest.raises(SettingsError) as caught:
        ComplianceConfig.from_env(
            {"PIMWARDEN_RETENTION_DAYS": "0", "PIMWARDEN_COLLECT_SCHEDULE": "*/5 * * * *",
             "PIMWARDEN_SERVICE_PRINCIPAL_ID": "pim-warden@contoso.com"})
    assert {p.split(":")[0] for p in caught.value.problems} == {
        "PIMWARDEN_RETENTION_DAYS", "PIMWARDEN_COLLECT_SCHEDULE", "PIMWARDEN_SERVICE_PRINCIPAL_ID"}


def test_continuation_token_round_trips_and_foreign_tokens_are_refused() -> None:
    position = Position("2025-03", "20250301T000000000000Z-abc")
    assert decode_token(encode_token(position)) == position
    for foreign in ("", "not base64!", "WzFd", "eyJhIjogMX0"):
        with pytest.raises(BadToken):
            decode_token(foreign)


def test_report_query_defaults_and_time_zones() -> None:
    query = fn.parse_report_query({"app": "sp-1", "from": "2025-04-01T02:00:00+02:00"}, NOW)
    assert query.start == datetime(2025, 4, 1, tzinfo=UTC) and query.end == NOW
    assert (query.fmt.value, query.page_size, query.continuation) == ("json", None, None)
    spaced = fn.parse_report_query({"app": "sp-1", "from": "2025-04-01T02:00:00 02:00"}, NOW)
    assert spaced.start == query.start  # '+' decoded as a space in a query string


def test_months_between_crosses_a_year() -> None:
    assert months_between(datetime(2024, 11, 30, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)) == [
        "2024-11", "2024-12", "2025-01", "2025-02"]


def test_timers_take_their_schedules_from_settings_and_routes_need_a_function_key() -> None:
    import azure.functions as func

    app = func.FunctionApp()
    app.register_functions(fn.bp)
    triggers = {f.get_function_name(): f.get_trigger() for f in app.get_functions()}
    assert triggers["compliance_collect"].schedule == "%PIMWARDEN_COLLECT_SCHEDULE%"
    assert triggers["compliance_retention"].schedule == "%PIMWARDEN_RETENTION_SCHEDULE%"
    assert not triggers["compliance_collect"].run_on_startup
    routes = {n: t for n, t in triggers.items() if hasattr(t, "route") and t.route}
    assert {t.route for t in routes.values()} == {"report", "apps/{appId}/evidence", "findings"}
    assert all(str(t.auth_level).upper().endswith("FUNCTION") for t in routes.values())

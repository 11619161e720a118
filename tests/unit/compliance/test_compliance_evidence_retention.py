"""The evidence view and retention boundaries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.compliance.events import EventKind, Source
from shared.compliance.evidence import LastEnforcement, PolicyDifference, build_evidence
from shared.compliance.expiry import ScheduleInstance
from shared.compliance.findings import AppState, Finding, FindingKind, Severity
from shared.compliance.retention import plan_retention, retention_cutoff
from tests.unit.compliance.samples import APP, GROUP, at, make_event

NOW = at("2026-01-05T12:00")


def test_evidence_view_lists_current_holders_drift_and_findings_as_json() -> None:
    state = AppState(
        frozenset({GROUP}),
        eligibilities=(ScheduleInstance("bob", GROUP, at("2025-06-01T00:00"), at("2026-03-01T00:00")),
                       ScheduleInstance("ann", GROUP, at("2025-06-01T00:00"), at("2026-02-01T00:00")),
                       ScheduleInstance("old", GROUP, at("2025-01-01T00:00"), at("2026-01-01T00:00"))),
        active=(ScheduleInstance("ann", GROUP, at("2026-01-05T11:00"), at("2026-01-05T13:00"), "activated"),),
        upns={"ann": "ann@contoso.com"},
    )
    repaired = [make_event(n, event=EventKind.POLICY_DRIFT_REPAIRED, source=Source.WARDEN_AUDIT,
                           time=at("2026-01-01T00:00") + timedelta(days=n)) for n in range(3)]
    finding = Finding(FindingKind.ELIGIBILITY_LAPSING, Severity.LOW, APP.app_id, "ann", "ends soon", ("x",))
    view = build_evidence(
        APP, "strict", NOW, state,
        differences=[PolicyDifference("member", "Expiration_EndUser_Assignment", "maximumDuration", "PT1H",
                                      "PT8H")],
        last_enforcement=LastEnforcement(at("2026-01-05T11:55"), "succeeded", "timer", 1),
        history=[make_event(9), *repaired], findings=[finding], drift_limit=2,
    )
    body = json.loads(view.to_json())
    assert [h["principal_id"] for h in body["eligible"]] == ["ann", "bob"]
    assert body["eligible"][0] == {"principal_id": "ann", "upn": "ann@contoso.com", "group_id": GROUP,
                                   "start": "2025-06-01T00:00:00Z", "end": "2026-02-01T00:00:00Z",
                                   "assignment_type": None}
    assert [h["assignment_type"] for h in body["active"]] == ["activated"]
    assert body["policy_matches_profile"] is False
    assert body["policy_differences"][0]["current_value"] == "PT8H"
    assert body["last_enforcement"]["at"] == "2026-01-05T11:55:00Z"
    assert [e["source_id"] for e in body["drift_history"]] == ["request-2", "request-1"]
    assert body["findings"][0]["kind"] == "eligibility_lapsing" and body["findings"][0]["evidence"] == ["x"]


def test_retention_cutoff_is_now_minus_days() -> None:
    assert retention_cutoff(NOW) == NOW - timedelta(days=400)
    with pytest.raises(ValueError):
        retention_cutoff(NOW, days=0)


def test_whole_months_before_the_cutoff_month_go_and_the_boundary_month_is_cut() -> None:
    now = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # cutoff 2025-02-03T06:00Z
    plan = plan_retention(now, ["2024-12", "2025-01", "2025-02", "2025-03", "2026-03", "garbage", "2025-1"])
    assert plan.cutoff == datetime(2025, 2, 3, 6, 0, tzinfo=UTC)
    assert plan.whole_months == ("2024-12", "2025-01")
    assert plan.boundary_month == "2025-02"
    assert plan.is_expired(datetime(2025, 2, 3, 5, 59, 59, tzinfo=UTC))
    assert not plan.is_expired(plan.cutoff)


def test_cutoff_on_a_month_start_leaves_no_boundary_month() -> None:
    now = datetime(2025, 2, 1, tzinfo=UTC) + timedelta(days=400)
    plan = plan_retention(now, ["2025-01", "2025-02"])
    assert plan.cutoff == datetime(2025, 2, 1, tzinfo=UTC)
    assert (plan.whole_months, plan.boundary_month) == (("2025-01",), None)

"""Expiry derivation: ended by time -> an event at the end time, once."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.compliance.events import Cause, EventKind, Source
from shared.compliance.expiry import ScheduleInstance, expiries, instance_from_graph
from tests.unit.compliance.samples import CTX, GROUP, USER, at, make_event

NOW = at("2026-01-05T12:00")


def eligibility(end: str | None, start: str = "2025-01-01T00:00", who: str = USER) -> ScheduleInstance:
    return ScheduleInstance(who, GROUP, at(start), at(end) if end else None)


def activation(start: str, end: str, who: str = USER) -> ScheduleInstance:
    return ScheduleInstance(who, GROUP, at(start), at(end), assignment_type="activated")


def test_eligibility_gone_after_its_end_expired_at_the_end_time() -> None:
    (event,) = expiries([eligibility("2026-01-04T00:00")], [], NOW, CTX)
    assert event.event is EventKind.ELIGIBILITY_EXPIRED
    assert event.time == event.end == at("2026-01-04T00:00")
    assert event.start == at("2025-01-01T00:00") and event.duration == "P368D"
    assert (event.cause, event.trigger, event.source) == (Cause.PIM, "schedule_end", Source.SCHEDULE_END)
    assert event.user_upn == "alice@contoso.com"


def test_activation_expiry_is_found_while_pim_still_lists_the_ended_instance_and_after() -> None:
    ended = activation("2026-01-05T09:00", "2026-01-05T11:00")
    lagging = expiries([ended], [ended], NOW, CTX)
    gone = expiries([ended], [], NOW, CTX)
    assert [e.event for e in lagging] == [EventKind.ACTIVATION_EXPIRED]
    assert [e.event_id for e in lagging] == [e.event_id for e in gone]
    assert lagging[0].duration == "PT2H"


def test_running_extended_permanent_and_removed_early_are_not_expiries() -> None:
    running = activation("2026-01-05T11:00", "2026-01-05T13:00")
    extended_before = eligibility("2026-01-05T00:00", who="bob")
    extended_now = eligibility("2026-07-01T00:00", who="bob")
    permanent = eligibility(None, who="carol")
    removed_early = eligibility("2026-06-01T00:00", who="dave")  # gone now, end still ahead
    found = expiries([running, extended_before, permanent, removed_early],
                     [running, extended_now, permanent], NOW, CTX)
    assert found == []


def test_deactivated_before_its_end_is_not_an_expiry_even_if_noticed_late() -> None:
    ended = activation("2026-01-05T09:00", "2026-01-05T11:00")
    deactivated = make_event(time=at("2026-01-05T09:30"), event=EventKind.DEACTIVATED, user_id=USER,
                             group_id=GROUP)
    other_user = make_event(time=at("2026-01-05T09:30"), event=EventKind.DEACTIVATED, user_id="bob")
    assert expiries([ended], [], NOW, CTX, ended_early=[deactivated]) == []
    assert len(expiries([ended], [], NOW, CTX, ended_early=[other_user])) == 1


def test_owner_role_instances_are_ignored_and_results_are_time_ordered() -> None:
    owner = ScheduleInstance(USER, GROUP, at("2026-01-01T00:00"), at("2026-01-02T00:00"), access_id="owner")
    late = eligibility("2026-01-04T00:00", who="a")
    early = eligibility("2026-01-03T00:00", who="b")
    assert [e.user_id for e in expiries([owner, late, early], [], NOW, CTX)] == ["b", "a"]


def test_documented_assignment_instances_read_from_graph_json() -> None:
    # privilegedaccessgroup-list-assignmentscheduleinstances.md response, first item
    doc = {
        "id": f"{GROUP}_member_365163ce-df68-40b8-a782-1824c9eb7bcc",
        "principalId": "6be4b305-b75e-4efc-bfcc-31bd3b53a5f8",
        "startDateTime": "2023-09-29T15:48:00.273Z", "endDateTime": "2024-03-27T15:47:19.653Z",
        "assignmentType": "Assigned", "accessId": "member", "groupId": GROUP, "memberType": "Direct",
        "assignmentScheduleId": f"{GROUP}_member_f13739ce-d5f9-4a5a-845a-22fbccf0e14f",
    }
    instance = instance_from_graph(doc, eligibility=False)
    assert instance is not None and instance.assignment_type == "assigned"
    (event,) = expiries([instance], [], datetime(2024, 4, 1, tzinfo=UTC), CTX)
    assert event.event is EventKind.ASSIGNMENT_EXPIRED
    assert event.time == datetime(2024, 3, 27, 15, 47, 19, 653000, tzinfo=UTC)
    assert instance_from_graph({"groupId": GROUP}, eligibility=True) is None

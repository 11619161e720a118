"""Eligibility and assignment schedules, and the instances derived from them.

A schedule is the Graph JSON of privilegedAccessGroupEligibilitySchedule /
privilegedAccessGroupAssignmentSchedule (id `{groupId}_{accessId}_{requestId}`). An instance is a
schedule that is in effect now (start <= now < end); instances are computed, never stored, so the
clock alone decides who is eligible or active. Ended schedules leave the lists (kept aside for
adminRenew).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graphsim.errors import not_found
from graphsim.pim.values import format_datetime, format_stamp, parse_datetime, parse_duration

KINDS = ("eligibility", "assignment")


@dataclass(frozen=True)
class Window:
    """When a schedule is in effect; end None means permanent."""

    start: datetime
    end: datetime | None

    def contains(self, now: datetime) -> bool:
        """True when `now` falls inside the window."""
        return self.start <= now and (self.end is None or now < self.end)


def window_of(schedule_info: dict[str, Any]) -> Window:
    """The window a (validated) scheduleInfo describes."""
    start = parse_datetime(schedule_info["startDateTime"], "startDateTime")
    expiration = schedule_info.get("expiration") or {}
    kind = expiration.get("type")
    if kind == "afterDateTime":
        return Window(start, parse_datetime(expiration["endDateTime"], "endDateTime"))
    if kind == "afterDuration":
        return Window(start, start + parse_duration(expiration["duration"]))
    return Window(start, None)


def schedule_info(
    start: datetime,
    expiration_type: str,
    end: datetime | None,
    duration: timedelta | None,
    duration_text: str | None,
) -> dict[str, Any]:
    """A requestSchedule in Graph's JSON."""
    return {
        "startDateTime": format_stamp(start),
        "recurrence": None,
        "expiration": {
            "type": expiration_type,
            "endDateTime": format_datetime(end) if expiration_type == "afterDateTime" else None,
            "duration": duration_text if duration is not None else None,
        },
    }


class ScheduleStore:
    """Live and ended schedules of both kinds."""

    def __init__(self) -> None:
        self.live: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.ended: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.applied: set[str] = set()  # assignment schedules whose membership is in the directory

    def reset(self) -> None:
        """Forget every schedule."""
        for kind in KINDS:
            self.live[kind].clear()
            self.ended[kind].clear()
        self.applied.clear()

    def add(self, kind: str, schedule: dict[str, Any]) -> None:
        """Store a live schedule."""
        self.live[kind][schedule["id"]] = schedule

    def end(self, kind: str, schedule_id: str) -> dict[str, Any]:
        """Move a schedule out of the live list; returns it."""
        schedule = self.live[kind].pop(schedule_id)
        self.ended[kind][schedule_id] = schedule
        self.applied.discard(schedule_id)
        return schedule

    def get(self, kind: str, schedule_id: str) -> dict[str, Any]:
        """A live schedule by id, or 404."""
        found = self.live[kind].get(schedule_id)
        if found is None:
            raise not_found(f"The {kind} schedule '{schedule_id}' was not found.")
        return found

    def find(
        self,
        kind: str,
        group_id: str,
        principal_id: str,
        access_id: str,
        assignment_type: str | None = None,
        ended: bool = False,
    ) -> dict[str, Any] | None:
        """The live (or ended) schedule for this group, principal and access, if any."""
        pool = self.ended[kind] if ended else self.live[kind]
        for schedule in pool.values():
            if (schedule["groupId"], schedule["principalId"], schedule["accessId"]) != (
                group_id,
                principal_id,
                access_id,
            ):
                continue
            if assignment_type is None or schedule.get("assignmentType") == assignment_type:
                return schedule
        return None

    def instances(self, kind: str, now: datetime) -> list[dict[str, Any]]:
        """The schedules in effect at `now`, as schedule instances."""
        return [
            _instance(kind, s) for s in self.live[kind].values() if window_of(s["scheduleInfo"]).contains(now)
        ]

    def instance(self, kind: str, instance_id: str, now: datetime) -> dict[str, Any]:
        """One instance by id (the schedule id), or 404."""
        found = self.live[kind].get(instance_id)
        if found is None or not window_of(found["scheduleInfo"]).contains(now):
            raise not_found(f"The {kind} schedule instance '{instance_id}' was not found.")
        return _instance(kind, found)

    def seed(self, kind: str, schedules: list[dict[str, Any]]) -> None:
        """Load Graph-shaped schedules, ids kept."""
        for schedule in schedules:
            stored = copy.deepcopy(schedule)
            stored.setdefault("status", "Provisioned")
            stored.setdefault("memberType", "Direct")
            if kind == "assignment":
                stored.setdefault("assignmentType", "Assigned")
            self.live[kind][stored["id"]] = stored

    def dump(self, kind: str) -> list[dict[str, Any]]:
        """Live schedules in Graph's JSON."""
        return [copy.deepcopy(s) for s in self.live[kind].values()]


def _instance(kind: str, schedule: dict[str, Any]) -> dict[str, Any]:
    info = schedule["scheduleInfo"]
    window, expiration = window_of(info), info.get("expiration") or {}
    given_end = expiration.get("endDateTime") if expiration.get("type") == "afterDateTime" else None
    out: dict[str, Any] = {  # an instance shows its schedule's times as the schedule shows them
        "id": schedule["id"],
        "principalId": schedule["principalId"],
        "startDateTime": info["startDateTime"],
        "endDateTime": given_end or format_datetime(window.end),
    }
    if kind == "assignment":
        out["assignmentType"] = schedule.get("assignmentType", "Assigned")
    out.update(
        {
            "accessId": schedule["accessId"],
            "groupId": schedule["groupId"],
            "memberType": schedule.get("memberType", "Direct"),
        }
    )
    out["assignmentScheduleId" if kind == "assignment" else "eligibilityScheduleId"] = schedule["id"]
    return out
